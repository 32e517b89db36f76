/**
 * The shard worker's persistence: recovery before the loop starts, WAL logging after each
 * write command, group commit right before replies are published, fork-less snapshots in
 * slices, and the disk-error state (-MISCONF for writes, reads unaffected, automatic retry).
 *
 * Hooks called by workers/shard.ts: intercept() first thing for every frame, after() once
 * the handler ran, beforePublish() at the top of flushReplies(), tick() once per loop turn,
 * sleepMs() to bound the idle sleep, recover() before the loop, close() after it.
 * For multi-shard writes (see the lead's session code): beginGroup()/endGroup() around what a
 * shard executes for one transaction, logPut()/logDel() for writes applied without a command.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { TABLE } from '../commands/table.ts';
import type { ShardContext } from '../commands/types.ts';
import type { Ring } from '../router/ring.ts';
import { FLAG_SPILL } from '../router/frames.ts';
import { KEY_OFF } from '../store/record.ts';
import { misconfMessage } from './errno.ts';
import type { FromShard, PersistInit, ToShard } from './messages.ts';
import { OP_WAL_GROUP } from './group-frames.ts';
import * as P from './status.ts';
import { Wal } from './wal.ts';
import { Snapshots } from './shard-snapshot.ts';
import { runRecovery } from './shard-recovery.ts';
import { shutdownSnapshots, type ShutdownSave } from './shutdown-save.ts';

/** Commands that replace whole tables: a running snapshot starts over after them. */
const BULK = new Set(['flushdb', 'flushall', 'swapdb']);
const RETRY_MS = 1000;

/** What the shard loop lends for publishing replies. */
export interface PublishHooks {
  writeReply: () => void;
  flushReplies: () => void;
  rep: Ring;
}

export class ShardPersistence {
  readonly wal: Wal;
  readonly status: Float64Array;
  readonly snapshots: Snapshots;
  logging: boolean;
  policy: P.FsyncPolicy;
  epoch: number;
  /** Highest group id of this epoch this shard logged (snapshot watermark). */
  maxGid = 0;
  private dirty0 = 0;
  private expiredDuring = 0;
  private mark: { gid: number; participants: number[] } | null = null;
  /** (connId, seq) of replies whose records must be durable first (appendfsync always). */
  private readonly logged = new Set<number>();
  /** Reply frames held back until a failing disk accepts their records again. */
  private held: Buffer[] = [];
  private lastRetry = 0;
  private fsyncErrno = 0;
  private lastPoll = 0;

  readonly init: PersistInit;
  readonly port: MessagePort;
  readonly ioPort: MessagePort;
  readonly ctx: ShardContext;
  private readonly hooks: PublishHooks;

  constructor(
    init: PersistInit,
    port: MessagePort,
    ioPort: MessagePort,
    ctx: ShardContext,
    hooks: PublishHooks,
  ) {
    this.init = init;
    this.port = port;
    this.ioPort = ioPort;
    this.ctx = ctx;
    this.hooks = hooks;
    this.wal = new Wal(init.dir, init.shard, init.shards);
    this.status = new Float64Array(init.statusSab);
    this.logging = init.appendonly;
    this.policy = init.appendfsync;
    this.epoch = init.epoch;
    this.status[P.P_FD] = -1;
    this.status[P.P_POLICY] = P.POLICY[this.policy];
    this.snapshots = new Snapshots(this);
  }

  post(msg: FromShard): void {
    this.port.postMessage(msg);
  }

  log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.post({ t: 'log', shard: this.init.shard, level, msg });
  }

  /** Blocking recovery; returns once main says the server may serve. */
  recover(): void {
    runRecovery(this);
    // Chain, not replace: keyspace notifications hang off the same hook.
    const ks = this.ctx.ks;
    // Keys deleted by expiry or eviction are logged as DEL (they are no command's own change:
    // a restart must not bring them back), and a running snapshot writes them out first if it
    // has not reached them yet.
    const logDeletion = (h: number, db: number): void => {
      if (ks.snapshot !== null) ks.snapshot.touch(h, db);
      if (!this.logging) return;
      const u8 = ks.arena.u8(h);
      const ko = ks.arena.base(h) + KEY_OFF;
      this.wal.del(ks.now, db, u8, ko, ks.keyLength(h));
    };
    const prevExpired = ks.onExpired;
    ks.onExpired = (h, db) => {
      if (prevExpired !== null) prevExpired(h, db);
      logDeletion(h, db);
      // Its removal bumps ks.dirty; that is not a change of the command running (after()).
      this.expiredDuring++;
    };
    // (Evictions leave ks.dirty as it was: memory-guard.ts restores it.)
    const prevEvicted = ks.onEvicted;
    ks.onEvicted = (h, db) => {
      if (prevEvicted !== null) prevEvicted(h, db);
      logDeletion(h, db);
    };
  }

  /** Wait for a message from main (recovery handshake). */
  waitFor<T extends ToShard['t']>(t: T): Extract<ToShard, { t: T }> {
    const park = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m !== undefined) {
        const msg = m.message as ToShard;
        if (msg.t === t) return msg as Extract<ToShard, { t: T }>;
        this.onMessage(msg);
        continue;
      }
      Atomics.wait(park, 0, 0, 2);
    }
  }

  // ---- per command ----

  get refusing(): boolean {
    return this.wal.errno !== 0 || this.fsyncErrno !== 0;
  }

  /**
   * First thing for every frame: group marks are consumed here (no reply), a write while the
   * disk fails is answered with -MISCONF. Returns true when the frame was handled.
   */
  intercept(): boolean {
    const c = this.ctx;
    const v = c.req;
    if (v.cmd === OP_WAL_GROUP) {
      const participants: number[] = [];
      for (let i = 0; i < v.argc; i++) participants.push(Number(v.str(i)));
      this.mark = { gid: v.connId >>> 0, participants };
      return true;
    }
    this.dirty0 = c.ks.dirty;
    this.expiredDuring = 0;
    if (this.refusing && v.cmd < TABLE.length && TABLE[v.cmd]!.write) {
      this.mark = null;
      c.out.reset();
      c.out.error(misconfMessage(this.wal.errno || this.fsyncErrno));
      this.hooks.writeReply();
      return true;
    }
    return false;
  }

  /** After the handler: log the command if it changed the keyspace. */
  after(): void {
    const c = this.ctx;
    const v = c.req;
    if (v.cmd >= TABLE.length) return;
    const spec = TABLE[v.cmd]!;
    if (this.snapshots.running && BULK.has(spec.name)) this.snapshots.restartAfterCommand = true;
    const mark = this.mark;
    this.mark = null;
    if (!this.logging || !spec.write) return;
    const changed = c.ks.dirty - this.dirty0 - this.expiredDuring > 0;
    if (!changed && mark === null) return;
    const wal = this.wal;
    const now = c.ks.now;
    if (mark !== null) this.beginGroup(mark.gid, mark.participants);
    if (changed) {
      if (c.propagated.length > 0) for (const argv of c.propagated) wal.argv(now, v.db, argv);
      else wal.command(now, v.db, spec.name, v.u8, v.off, v.len, v.argc);
    }
    if (mark !== null) this.endGroup();
    if (this.policy === 'always') this.logged.add(v.connId * 4294967296 + (v.seq >>> 0));
  }

  // ---- API for multi-shard writes ----

  /** Records logged until endGroup() form one all-or-nothing part of group `gid`. */
  beginGroup(gid: number, participants: readonly number[]): void {
    if (!this.logging) return;
    this.wal.beginGroup(this.ctx.ks.now, this.epoch, gid, participants);
    if (gid > this.maxGid) this.maxGid = gid;
  }

  endGroup(): void {
    if (!this.logging) return;
    this.wal.endGroup();
  }

  /** A whole value written without a command (cross-shard executor's phase 2). */
  logPut(
    db: number,
    key: Uint8Array,
    type: number,
    value: Uint8Array | Uint8Array[],
    expireAt: number,
    encoding: number,
  ): void {
    if (this.logging) this.wal.put(this.ctx.ks.now, db, key, type, value, expireAt, encoding);
  }

  logDel(db: number, key: Uint8Array): void {
    if (this.logging) this.wal.del(this.ctx.ks.now, db, key, 0, key.length);
  }

  /** Log writes applied without a command (the cross-shard executor's phase 2, sessions). */
  logHoldOps(
    ops: readonly {
      op: 'del' | 'put';
      db: number;
      key: Uint8Array;
      type?: number;
      value?: Uint8Array | Uint8Array[];
      expireAt?: number;
      encoding?: number;
    }[],
  ): void {
    if (!this.logging) return;
    for (const o of ops) {
      if (o.op === 'del') this.logDel(o.db, o.key);
      else this.logPut(o.db, o.key, o.type ?? 0, o.value!, o.expireAt ?? 0, o.encoding ?? 0);
    }
  }

  // ---- group commit ----

  /** Every publish of replies pays an fsync (appendfsync always with the WAL on). */
  get fsyncsEachPublish(): boolean {
    return this.logging && this.policy === 'always';
  }

  /** Called before replies are published: write (and with always, fsync) their records. */
  beforePublish(): void {
    const wal = this.wal;
    const sync = this.policy === 'always';
    if (!wal.pending && !(sync && wal.synced < wal.logged)) return;
    if (this.held.length > 0 || wal.errno !== 0) return this.failedFlush(sync);
    if (wal.flush(sync)) {
      this.logged.clear();
      this.publishWal();
      return;
    }
    this.failedFlush(sync);
  }

  private failedFlush(sync: boolean): void {
    this.enterError();
    if (!sync || this.logged.size === 0) return;
    // Take back the replies whose records are not durable; publish the others.
    const rep = this.hooks.rep;
    for (const f of rep.takeUnpublished()) {
      const key = f.readInt32LE(0) * 4294967296 + (f.readInt32LE(4) >>> 0);
      if (this.logged.has(key) && (f.readInt32LE(8) & FLAG_SPILL) === 0) this.held.push(f);
      else recommit(rep, f);
    }
    this.logged.clear();
  }

  private enterError(): void {
    if (this.status[P.P_WRITE_ERRNO] === this.wal.errno) return;
    this.status[P.P_WRITE_ERRNO] = this.wal.errno;
    this.log(
      'error',
      `${misconfMessage(this.wal.errno).slice(8)}: refusing writes until the disk accepts them again`,
    );
  }

  /** Retry a failed write; on success publish the replies held back. */
  private retry(now: number): void {
    if (now - this.lastRetry < RETRY_MS) return;
    this.lastRetry = now;
    if (!this.wal.flush(this.policy === 'always' || this.held.length > 0)) return;
    this.status[P.P_WRITE_ERRNO] = 0;
    this.publishWal();
    this.log('info', 'WAL writes succeed again: accepting writes');
    const rep = this.hooks.rep;
    while (this.held.length > 0) {
      if (!recommit(rep, this.held[0]!)) {
        this.hooks.flushReplies();
        break;
      }
      this.held.shift();
    }
    this.hooks.flushReplies();
  }

  publishWal(): void {
    const s = this.status;
    const wal = this.wal;
    s[P.P_WAL_BYTES]! += wal.logged - s[P.P_WRITTEN]!;
    s[P.P_WRITTEN] = wal.logged;
    if (wal.synced > s[P.P_SYNCED]!) s[P.P_SYNCED] = wal.synced;
    s[P.P_WAL_FRAMES]!++;
  }

  // ---- loop ----

  tick(): void {
    const now = this.ctx.ks.now;
    // Messages (SAVE, CONFIG SET) are rare: polling the port costs ~1 µs, so at most every 10 ms.
    if (now - this.lastPoll >= 10) {
      this.lastPoll = now;
      this.pollMessages();
    }
    this.fsyncErrno = this.status[P.P_FSYNC_ERRNO]!;
    if (this.wal.errno !== 0 || this.held.length > 0) this.retry(now);
    else if (this.wal.pending && !this.wal.inGroup) {
      // Records logged outside commands (active expiry): written without waiting for a batch.
      if (this.wal.flush(this.policy === 'always')) this.publishWal();
      else this.enterError();
    }
    this.snapshots.tick(now);
    this.status[P.P_DIRTY] = this.ctx.ks.dirty - this.snapshots.dirtyAtSave;
  }

  /** Longest the idle loop may sleep: not at all while a snapshot has work to do. */
  sleepMs(): number {
    if (this.snapshots.running) return 0;
    return this.wal.errno !== 0 || this.held.length > 0 ? RETRY_MS / 4 : 100;
  }

  /** Apply what main posted on the persistence port (SAVE/BGSAVE requests, CONFIG SET). */
  pollMessages(): void {
    let m;
    while ((m = receiveMessageOnPort(this.port)) !== undefined) this.onMessage(m.message as ToShard);
  }

  onMessage(msg: ToShard): void {
    if (msg.t === 'save') this.snapshots.request(msg.id);
    else if (msg.t === 'config') this.config(msg.name, msg.value);
  }

  private config(name: string, value: unknown): void {
    if (name === 'appendfsync') {
      this.policy = value as P.FsyncPolicy;
      this.status[P.P_POLICY] = P.POLICY[this.policy];
      if (this.policy === 'always' && this.wal.flush(true)) this.publishWal();
    } else if (name === 'appendonly') {
      const on = value as boolean;
      if (on === this.logging) return;
      if (!on) {
        this.wal.closeSegment();
        this.status[P.P_FD] = -1;
        this.logging = false;
      } else {
        // Like Redis turning AOF on: a rewrite first, so snapshot + WAL hold everything.
        this.logging = true;
        this.snapshots.request(-1);
      }
    } else if (name === 'auto-aof-rewrite-percentage') this.init.autoPct = value as number;
    else if (name === 'auto-aof-rewrite-min-size') this.init.autoMin = value as number;
  }

  /**
   * Stop: everything logged reaches the disk. A clean shutdown (not NOSAVE) first finishes a
   * running snapshot or takes one, by `deadline` (Date.now() ms): see shutdown-save.ts.
   */
  close(mode: ShutdownSave = 'nosave', deadline = 0): void {
    shutdownSnapshots(this, mode, deadline);
    this.snapshots.abort('shutting down');
    if (this.wal.closeSegment()) this.publishWal();
    this.status[P.P_FD] = -1;
  }
}

/** Copy a reply frame (header + RESP) back into the reply ring; false when it is full. */
function recommit(rep: Ring, f: Buffer): boolean {
  const off = rep.reserve(f.length);
  if (off < 0) return false;
  f.copy(rep.u8, off, 0, f.length);
  rep.commit(off, f.length);
  return true;
}
