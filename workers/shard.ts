/**
 * Shard worker: owns one shard's keyspace (all databases) and runs a synchronous loop:
 * drain a batch of request frames, execute each against the keyspace, write RESP replies to
 * the reply ring, publish once and ring the main thread's doorbell; when idle, run active
 * expiry and housekeeping, then sleep on the request ring's futex word (bounded by the next
 * timing-wheel deadline). The loop never yields to the event loop: nothing else runs here,
 * and Atomics.wait wakes faster than waitAsync.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { applyHoldOps, dumpKeys, hold } from '../src/commands/hold.ts';
import { unwatchConn, watchKeys } from '../src/commands/watch.ts';
import { blockKeys, ready, unblockKeys } from '../src/commands/blocked-keys.ts';
import { TABLE } from '../src/commands/table.ts';
import { modified, propagate } from '../src/commands/modified.ts';
import { ShardNotifier } from '../src/commands/notify-shard.ts';
import type { ShardContext } from '../src/commands/types.ts';
import { RespWriter } from '../src/protocol/writer.ts';
import { ShardPersistence } from '../src/persistence/shard-persist.ts';
import type { PersistInit } from '../src/persistence/messages.ts';
import type { ShutdownSave } from '../src/persistence/shutdown-save.ts';
import {
  BELL,
  CONTROL,
  holdWord,
  OP_BASE_INTERNAL,
  OP_BLOCK,
  OP_UNBLOCK,
  OP_DUMP,
  OP_HOLD,
  OP_UNWATCH,
  OP_WATCH,
  READY_SEQ,
  type ControlMessage,
  type SessionMessage,
} from '../src/router/control.ts';
import {
  FLAG_HOLD,
  FLAG_RESP3,
  FLAG_SPILL,
  REPLY_HEADER,
  REQ_HEADER,
  RequestView,
} from '../src/router/frames.ts';
import { Ring } from '../src/router/ring.ts';
import { shardOfKey } from '../src/router/keyslot.ts';
import * as S from '../src/router/shard-stats.ts';
import { Keyspace } from '../src/store/keyspace.ts';
import { dropped } from '../src/store/keytable.ts';
import { droppedArena } from '../src/store/arena.ts';
import { recordExec } from '../src/observability/exec-stats.ts';
import {
  EV_EXPIRE_CYCLE,
  LAT_THRESHOLD,
  sampleCommandLatency,
  sampleLatency,
} from '../src/observability/latency-monitor.ts';
import { SlowLog } from '../src/observability/slowlog.ts';
import { MemoryGuard } from '../src/commands/memory-guard.ts';

interface ShardInit {
  shardId: number;
  databases: number;
  reqSab: SharedArrayBuffer;
  repSab: SharedArrayBuffer;
  ctlSab: SharedArrayBuffer;
  statsSab: SharedArrayBuffer;
  spillIn: MessagePort;
  spillOut: MessagePort;
  holdPort: MessagePort;
  ctlPort: MessagePort;
  eventsPort: MessagePort;
  maxBulkLen: number;
  expireBudgetMs: number;
  execSab: SharedArrayBuffer;
  latencySab: SharedArrayBuffer;
  slowlogSlowerThan: number;
  slowlogMaxLen: number;
  persist: PersistInit;
  persistPort: MessagePort;
  persistIoPort: MessagePort;
}

const init = workerData as ShardInit;
const req = new Ring(init.reqSab);
const rep = new Ring(init.repSab);
const ctl = new Int32Array(init.ctlSab);
const stats = new Float64Array(init.statsSab);
const ks = new Keyspace(init.databases);
const view = new RequestView();
const out = new RespWriter();
const execStats = new Float64Array(init.execSab);
const latency = new Float64Array(init.latencySab);
const slowlog = new SlowLog();
slowlog.threshold = init.slowlogSlowerThan;
slowlog.maxLen = init.slowlogMaxLen;
const ctx: ShardContext = {
  ks,
  req: view,
  out,
  shardId: init.shardId,
  maxBulkLen: init.maxBulkLen,
  slowlog,
  notifyFlags: 0,
  events: [],
  modified,
  propagate,
  propagated: [],
};
if (init.persist.shards > 1) {
  ctx.ownsKey = (u8, off, len) => shardOfKey(u8, off, len, init.persist.shards) === init.shardId;
}
const notifier = new ShardNotifier(ctx, init.eventsPort, ctl);
let controlSeen = 0;
/** WAL, snapshots and recovery (src/persistence/shard-persist.ts). */
const persist = new ShardPersistence(init.persist, init.persistPort, init.persistIoPort, ctx, {
  writeReply,
  flushReplies,
  rep,
});
let expireBudgetMs = init.expireBudgetMs;
let running = true;
/** How the stop asked to leave the data (SHUTDOWN's save option) and by when (Date.now() ms). */
let stopSave: ShutdownSave = 'nosave';
let stopDeadline = 0;
let ops = 0;
let lastStats = 0;
const park = new Int32Array(new SharedArrayBuffer(4));
/** maxmemory: eviction before commands, -OOM, lazy freeing and compaction in the loop. */
const memory = new MemoryGuard(ctx, stats);

function execute(): void {
  // Group marks of multi-shard writes, and -MISCONF for writes while the disk fails.
  if (persist.intercept()) return;
  out.reset();
  out.resp3 = (view.flags & FLAG_RESP3) !== 0;
  if (ctx.propagated.length > 0) ctx.propagated.length = 0;
  const t0 = performance.now();
  try {
    if (view.cmd >= OP_BASE_INTERNAL) internal();
    else if (memory.admit(view.cmd)) TABLE[view.cmd]!.shard!(ctx);
  } catch (err) {
    out.reset();
    out.error(`ERR internal error in shard ${init.shardId}: ${(err as Error).message}`);
  }
  if (view.cmd < OP_BASE_INTERNAL) {
    const us = (performance.now() - t0) * 1000;
    recordExec(execStats, view.cmd, us, out.buf[0] === 45);
    sampleCommandLatency(latency, view.cmd, us);
    // The shard parts of SLOWLOG itself are not entries: main logs the client's command once.
    if (slowlog.wants(us) && !TABLE[view.cmd]!.name.startsWith('slowlog|')) logSlow(us);
  }
  persist.after();
  ops++;
  writeReply();
  if (ready.length > 0) writeReady();
}

function internal(): void {
  switch (view.cmd) {
    case OP_HOLD:
      return hold(ctx);
    case OP_DUMP:
      return dumpKeys(ctx);
    case OP_WATCH:
      return watchKeys(ctx);
    case OP_UNWATCH:
      return unwatchConn(ctx);
    case OP_BLOCK:
      return blockKeys(ctx);
    case OP_UNBLOCK:
      return unblockKeys(ctx);
  }
  throw new Error(`unknown internal opcode ${view.cmd}`);
}

/** Keys that blocked clients wait on were written: tell main (connection 0, READY_SEQ). */
function writeReady(): void {
  out.reset();
  out.resp3 = false;
  out.arrayHeader(ready.length);
  for (const x of ready) {
    if (typeof x === 'number') out.integer(x);
    else out.bulk(x, 0, x.length);
  }
  ready.length = 0;
  const connId = view.connId;
  const seq = view.seq;
  view.connId = 0;
  view.seq = READY_SEQ;
  writeReply();
  view.connId = connId;
  view.seq = seq;
}

/** Slowlog entry with the command as the client wrote it (name, subcommand, arguments). */
function logSlow(us: number): void {
  const names = TABLE[view.cmd]!.name.split('|').map((n) => Buffer.from(n.toUpperCase()));
  slowlog.add(us, view.connId, names.length + view.argc, (i) =>
    i < names.length ? names[i]! : view.copy(i - names.length),
  );
}

function writeReply(): void {
  const len = out.pos;
  const spill = len + REPLY_HEADER > rep.maxFrame;
  const need = spill ? REPLY_HEADER : REPLY_HEADER + len;
  let off = rep.reserve(need);
  while (off < 0) {
    // Reply ring full: let main drain it, then retry.
    flushReplies();
    Atomics.wait(park, 0, 0, 1);
    off = rep.reserve(need);
  }
  const w = off >> 2;
  rep.i32[w] = view.connId;
  rep.i32[w + 1] = view.seq;
  if (spill) {
    rep.i32[w + 2] = FLAG_SPILL;
    init.spillOut.postMessage(out.take());
  } else {
    rep.i32[w + 2] = 0;
    out.buf.copy(rep.u8, off + REPLY_HEADER, 0, len);
  }
  rep.commit(off, need);
}

function flushReplies(): void {
  // Group commit: the WAL records of these replies are written (and fsynced) first.
  persist.beforePublish();
  // Keyspace events go first, so main publishes them before delivering these replies.
  const events = ctx.events.length > 0;
  if (events) notifier.post();
  if (!rep.unpublished) {
    if (events) ringBell();
    return;
  }
  rep.publish();
  ringBell();
}

function ringBell(): void {
  Atomics.add(ctl, BELL, 1);
  Atomics.notify(ctl, BELL);
}

/**
 * Parked in a session (after an OP_HOLD frame): execute only what the session posts — frames
 * (replies go out as usual), writes — until it ends. Nothing else runs on this shard meanwhile.
 */
function session(): void {
  flushReplies();
  const w = holdWord(init.shardId);
  for (;;) {
    const seen = Atomics.load(ctl, w);
    let msg;
    while ((msg = receiveMessageOnPort(init.holdPort)) !== undefined) {
      const m = msg.message as SessionMessage;
      ks.now = Date.now();
      // A group closes before the replies of its commands are published (group commit).
      if (m.t !== 'end' && m.group !== undefined) persist.beginGroup(m.group.gid, m.group.participants);
      if (m.t === 'frames') {
        // Main accepted the whole transaction (-OOM is decided at EXEC, as Redis does): evict
        // before each command but refuse none of them.
        memory.refusing = false;
        runFrames(m.buf, m.count);
        memory.refusing = true;
        if (m.group !== undefined) persist.endGroup();
        flushReplies();
        continue;
      }
      applyHoldOps(ctx, m.ops);
      persist.logHoldOps(m.ops);
      if (m.t === 'ops' && m.group !== undefined) persist.endGroup();
      if (ready.length > 0) writeReady();
      flushReplies();
      if (m.t === 'end') return;
    }
    Atomics.wait(ctl, w, seen, 100);
  }
}

function runFrames(buf: Uint8Array, count: number): void {
  const i32 = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
  let off = 0;
  for (let k = 0; k < count; k++) {
    view.decode(buf, i32, off);
    off =
      view.argc === 0 ? off + REQ_HEADER : view.off[view.argc - 1]! + ((view.len[view.argc - 1]! + 3) & ~3);
    execute();
  }
}

/**
 * Replies are published every 64 frames, not once per drained batch: the main thread starts
 * writing the first replies while this thread works on the rest (measured at pipeline 16:
 * +6–24% over publishing per 1024-frame batch; 16 was worse again).
 */
const REPLY_BATCH_MASK = 63;
function drain(): number {
  let n = 0;
  let off: number;
  while (n < 1024 && (off = req.peek()) >= 0) {
    // A control message posted before this frame was enqueued (CONFIG SET) applies first.
    if (Atomics.load(ctl, CONTROL) !== controlSeen) control();
    view.decode(req.u8, req.i32, off);
    if (view.flags & FLAG_SPILL) {
      const body = receiveMessageOnPort(init.spillIn)!.message as Uint8Array;
      view.decode(body, new Int32Array(body.buffer, body.byteOffset, body.byteLength >> 2), 0);
    }
    execute();
    req.advance();
    n++;
    // With appendfsync always each publish costs an fsync: publish once per batch instead.
    if ((n & REPLY_BATCH_MASK) === 0 && !persist.fsyncsEachPublish) flushReplies();
    if (view.flags & FLAG_HOLD) {
      req.release();
      session();
    }
  }
  if (n > 0) {
    req.release();
    flushReplies();
  }
  return n;
}

function publishStats(): void {
  let keys = 0;
  let expires = 0;
  for (let db = 0; db < init.databases; db++) {
    const k = ks.keyCount(db);
    const e = ks.expireCount(db);
    stats[S.dbKeysSlot(db)] = k;
    stats[S.dbExpiresSlot(db)] = e;
    keys += k;
    expires += e;
  }
  stats[S.ST_KEYS] = keys;
  stats[S.ST_EXPIRES] = expires;
  stats[S.ST_MEMORY] = ks.memoryBytes();
  stats[S.ST_ARENA_USED] = ks.arena.usedBytes;
  stats[S.ST_INDEX_BYTES] = ks.indexBytes();
  memory.publish();
  stats[S.ST_OPS] = ops;
  stats[S.ST_HITS] = ks.hits;
  stats[S.ST_MISSES] = ks.misses;
  stats[S.ST_EXPIRED] = ks.expiredKeys;
  stats[S.ST_HEARTBEAT] = ks.now;
}

function control(): void {
  controlSeen = Atomics.load(ctl, CONTROL);
  let msg;
  while ((msg = receiveMessageOnPort(init.ctlPort)) !== undefined) {
    const m = msg.message as ControlMessage;
    if (m.type === 'stop') {
      running = false;
      stopSave = m.save ?? 'nosave';
      stopDeadline = m.deadline ?? 0;
    } else if (m.type === 'config') {
      if (memory.configure(m.name, m.value)) continue;
      if (m.name === 'proto-max-bulk-len') ctx.maxBulkLen = m.value as number;
      else if (m.name === 'active-expire-budget-ms') expireBudgetMs = m.value as number;
      else if (m.name === 'slowlog-log-slower-than') slowlog.threshold = m.value as number;
      else if (m.name === 'notify-keyspace-events') notifier.configure(m.value as string);
      else if (m.name === 'slowlog-max-len') {
        slowlog.maxLen = m.value as number;
        slowlog.trim();
      }
    }
  }
}

/**
 * When idle, have V8 return the memory of dropped index tables and freed arena buffers: an idle
 * isolate never runs the major GC that would, and after a 1M-key load that is tens of MB of
 * RSS. `gc` exists because the main thread sets --expose-gc before creating shards.
 */
const collect = (globalThis as { gc?: () => void }).gc;
function collectDropped(): void {
  if (collect === undefined || dropped.bytes + droppedArena.bytes < GC_AFTER_BYTES) return;
  dropped.bytes = 0;
  droppedArena.bytes = 0;
  collect();
}
const GC_AFTER_BYTES = 4 * 1024 * 1024;

/** Active expiry in slices of a few ms so a mass expiry never stalls request processing. */
function activeExpire(): void {
  const t0 = performance.now();
  const deadline = t0 + expireBudgetMs;
  while (ks.expireDue(512)) {
    if (performance.now() >= deadline) break;
  }
  // Latency monitor "expire-cycle": one step that took at least the threshold.
  if (latency[LAT_THRESHOLD]! > 0) sampleLatency(latency, EV_EXPIRE_CYCLE, performance.now() - t0);
}

// Load the data before serving (main answers -LOADING meanwhile).
persist.recover();
while (running) {
  const seen = req.seqValue();
  ks.now = Date.now();
  const n = drain();
  activeExpire();
  persist.tick();
  const busy = memory.tick(n === 0);
  // 'expired' events of active expiry have no replies to travel with.
  if (ctx.events.length > 0) flushReplies();
  if (ks.now - lastStats >= 100 || n === 0) {
    publishStats();
    lastStats = ks.now;
  }
  // No spinning before sleep: measured -20% at pipeline 1 on 2 cores (the spin steals the
  // CPU that the main thread and the clients need), no gain at pipeline 16.
  if (n === 0) {
    control();
    ks.housekeep();
    collectDropped();
    const wait = Math.min(persist.sleepMs(), ks.wheel.msUntilNextDue(Date.now()));
    if (wait > 0 && !busy) req.sleep(seen, wait);
  }
}
publishStats();
persist.close(stopSave, stopDeadline);
