import v8 from 'node:v8';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ShardError } from '../util/errors.ts';
import {
  BELL,
  CONTROL,
  EVENTS,
  controlWords,
  holdWord,
  type ControlMessage,
  type SessionMessage,
} from './control.ts';
import { FLAG_SPILL, REPLY_HEADER, REQ_HEADER, requestSize, writeRequest } from './frames.ts';
import { keySlot } from './keyslot.ts';
import { Ring, ringBytes } from './ring.ts';
import { statsSlots } from './shard-stats.ts';
import { execStatsBytes } from '../observability/exec-stats.ts';
import { latencyBlockBytes } from '../observability/latency-monitor.ts';
import type { ShutdownSave } from '../persistence/shutdown-save.ts';

export interface ShardOptions {
  shards: number;
  databases: number;
  ringSize: number;
  maxBulkLen: number;
  expireBudgetMs: number;
  /** Command table size (per-command execution stats). */
  commands: number;
  slowlogSlowerThan: number;
  slowlogMaxLen: number;
  /** Extra workerData (and ports to transfer) for shard i: persistence's init and ports. */
  extra?: (i: number) => { data: Record<string, unknown>; transfer: MessagePort[] };
}

/** Keyspace events a shard posts: [db, event, key] triples (ShardContext.events). */
export type ShardEvents = (number | string | Uint8Array)[];

/** Called for every reply frame; `buf[off, off+len)` is valid only during the call. */
export type ReplySink = (
  shard: number,
  connId: number,
  seq: number,
  buf: Buffer,
  off: number,
  len: number,
) => void;

interface Shard {
  worker: Worker;
  req: Ring;
  rep: Ring;
  spillOut: MessagePort; // main → worker request bodies
  spillIn: MessagePort; // worker → main reply bodies
  holdPort: MessagePort;
  ctlPort: MessagePort;
  /** worker → main keyspace events (control.ts EVENTS). */
  eventsPort: MessagePort;
  stats: Float64Array;
  /** Per-command execution stats the worker writes (see observability/exec-stats.ts). */
  exec: Float64Array;
  /** Latency-monitor samples the worker writes (see observability/latency-monitor.ts). */
  latency: Float64Array;
}

const SLOTS = 16384;

/**
 * The main thread's side of every shard: spawns the workers, owns the producer end of each
 * request ring and the consumer end of each reply ring, maps hash slots to shards, and sleeps
 * on the shared doorbell for replies. Frames written during one event-loop turn are published
 * together by publish() (one store + at most one notify per ring).
 */
export class ShardSet {
  readonly count: number;
  readonly shards: Shard[] = [];
  readonly slotToShard = new Uint16Array(SLOTS);
  private readonly ctl: Int32Array;
  private readonly dirty: boolean[] = [];
  private sink: ReplySink | null = null;
  private bellSeen = 0;
  private eventsSeen = 0;
  /** Receives each shard's keyspace events (the server publishes them). */
  onEvents: (events: ShardEvents) => void = () => {};
  private stopped = false;
  /** Called after reply rings were drained (ring space freed: resume blocked readers). */
  onDrained: () => void = () => {};
  onExit: (shard: number, code: number) => void = () => {};

  constructor(opts: ShardOptions) {
    this.count = opts.shards;
    // Shard isolates get `gc()` so an idle shard can hand dropped tables back (workers/shard.ts).
    v8.setFlagsFromString('--expose-gc');
    const ctlSab = new SharedArrayBuffer(controlWords(opts.shards) * 4);
    this.ctl = new Int32Array(ctlSab);
    // Contiguous slot ranges per shard, like a Redis Cluster with `count` masters.
    for (let s = 0; s < SLOTS; s++) this.slotToShard[s] = Math.floor((s * opts.shards) / SLOTS);
    for (let i = 0; i < opts.shards; i++) {
      const req = Ring.create(opts.ringSize);
      const rep = Ring.create(opts.ringSize);
      const reqSpill = new MessageChannel();
      const repSpill = new MessageChannel();
      const hold = new MessageChannel();
      const control = new MessageChannel();
      const events = new MessageChannel();
      const statsSab = new SharedArrayBuffer(statsSlots(opts.databases) * 8);
      const execSab = new SharedArrayBuffer(execStatsBytes(opts.commands));
      const latencySab = new SharedArrayBuffer(latencyBlockBytes());
      const extra = opts.extra?.(i);
      const worker = new Worker(new URL('../../workers/shard.ts', import.meta.url), {
        workerData: {
          ...extra?.data,
          shardId: i,
          databases: opts.databases,
          reqSab: req.sab,
          repSab: rep.sab,
          ctlSab,
          statsSab,
          spillIn: reqSpill.port2,
          spillOut: repSpill.port1,
          holdPort: hold.port2,
          ctlPort: control.port2,
          eventsPort: events.port1,
          maxBulkLen: opts.maxBulkLen,
          expireBudgetMs: opts.expireBudgetMs,
          execSab,
          latencySab,
          slowlogSlowerThan: opts.slowlogSlowerThan,
          slowlogMaxLen: opts.slowlogMaxLen,
        },
        transferList: [
          reqSpill.port2,
          repSpill.port1,
          hold.port2,
          control.port2,
          ...(extra?.transfer ?? []),
          events.port1,
        ],
        name: `shard-${i}`,
      });
      worker.on('error', (err) => {
        throw new ShardError(`shard ${i} failed`, { cause: err });
      });
      worker.on('exit', (code) => {
        if (!this.stopped) this.onExit(i, code);
      });
      this.shards.push({
        worker,
        req,
        rep,
        spillOut: reqSpill.port1,
        spillIn: repSpill.port2,
        holdPort: hold.port1,
        ctlPort: control.port1,
        eventsPort: events.port2,
        stats: new Float64Array(statsSab),
        exec: new Float64Array(execSab),
        latency: new Float64Array(latencySab),
      });
      this.dirty.push(false);
    }
    void ringBytes;
  }

  start(sink: ReplySink): void {
    this.sink = sink;
    this.bellSeen = Atomics.load(this.ctl, BELL);
    this.arm();
  }

  shardOf(u8: Uint8Array, s: number, e: number): number {
    return this.count === 1 ? 0 : this.slotToShard[keySlot(u8, s, e - s)]!;
  }

  /** Whether a request of `size` bytes can be enqueued to shard i right now. */
  canFit(i: number, size: number): boolean {
    if (this.redirect[i]) return true;
    const ring = this.shards[i]!.req;
    return ring.canFit(size > ring.maxFrame ? REQ_HEADER : size);
  }

  /**
   * Enqueue a request built from parser arguments (args idx[0..count) of src/starts/ends).
   * Returns false when the ring is full (the caller pauses the connection and retries).
   */
  send(
    i: number,
    connId: number,
    seq: number,
    cmd: number,
    db: number,
    flags: number,
    src: Buffer,
    starts: Int32Array,
    ends: Int32Array,
    idx: Int32Array,
    count: number,
  ): boolean {
    const shard = this.shards[i]!;
    const ring = shard.req;
    const lens = lengthsScratch(starts, ends, idx, count);
    const size = requestSize(lens, count);
    const sf = this.redirect[i];
    if (sf !== null && sf !== undefined) {
      const off = sf.reserve(size);
      writeRequest(sf.u8, sf.i32, off, connId, seq, cmd, db, flags, src, starts, ends, idx, count);
      sf.count++;
      return true;
    }
    if (size > ring.maxFrame) {
      const off = ring.reserve(REQ_HEADER);
      if (off < 0) return this.full(i);
      const body = new Uint8Array(size);
      writeRequest(
        body,
        new Int32Array(body.buffer),
        0,
        connId,
        seq,
        cmd,
        db,
        flags,
        src,
        starts,
        ends,
        idx,
        count,
      );
      shard.spillOut.postMessage(body, [body.buffer]);
      ring.i32[off >> 2] = connId;
      ring.i32[(off >> 2) + 2] = (cmd << 16) | (db << 8) | flags | FLAG_SPILL;
      ring.commit(off, REQ_HEADER);
    } else {
      const off = ring.reserve(size);
      if (off < 0) return this.full(i);
      writeRequest(ring.u8, ring.i32, off, connId, seq, cmd, db, flags, src, starts, ends, idx, count);
      ring.commit(off, size);
    }
    this.dirty[i] = true;
    return true;
  }

  /** Enqueue a request whose arguments are standalone buffers (coordinator, SCAN, ...). */
  sendBuffers(
    i: number,
    connId: number,
    seq: number,
    cmd: number,
    db: number,
    flags: number,
    args: Buffer[],
  ): boolean {
    const src = args.length === 0 ? Buffer.alloc(0) : Buffer.concat(args);
    const starts = new Int32Array(args.length);
    const ends = new Int32Array(args.length);
    const idx = new Int32Array(args.length);
    let p = 0;
    for (let k = 0; k < args.length; k++) {
      starts[k] = p;
      p += args[k]!.length;
      ends[k] = p;
      idx[k] = k;
    }
    return this.send(i, connId, seq, cmd, db, flags, src, starts, ends, idx, args.length);
  }

  /** Publish every ring written since the last call (once per event-loop turn). */
  publish(): void {
    for (let i = 0; i < this.count; i++) {
      if (this.dirty[i]) {
        this.dirty[i] = false;
        this.shards[i]!.req.publish();
      }
    }
  }

  /** Post a message to shard i, parked in a session (see control.ts SessionMessage). */
  post(i: number, msg: SessionMessage): void {
    this.shards[i]!.holdPort.postMessage(msg);
    Atomics.add(this.ctl, holdWord(i), 1);
    Atomics.notify(this.ctl, holdWord(i));
  }

  /**
   * While set for a shard, send() appends frames here instead of to the ring: a session
   * (MULTI/EXEC, cross-shard executor) runs ordinary dispatch code against parked shards.
   */
  readonly redirect: (SessionFrames | null)[] = [];

  control(i: number, msg: ControlMessage): void {
    this.shards[i]!.ctlPort.postMessage(msg);
    Atomics.add(this.ctl, CONTROL, 1);
    this.shards[i]!.req.poke();
  }

  broadcast(msg: ControlMessage): void {
    for (let i = 0; i < this.count; i++) this.control(i, msg);
  }

  stats(i: number): Float64Array {
    return this.shards[i]!.stats;
  }

  execStats(i: number): Float64Array {
    return this.shards[i]!.exec;
  }

  latencyBlock(i: number): Float64Array {
    return this.shards[i]!.latency;
  }

  requestDepth(i: number): number {
    return this.shards[i]!.req.depth();
  }

  /**
   * Stop every shard. `save` (SHUTDOWN's option) lets a shard finish or take a snapshot before
   * it exits, by `deadline` (Date.now() ms); a shard still running 2 s past it is terminated.
   */
  async stop(save: ShutdownSave = 'nosave', deadline = 0): Promise<void> {
    this.stopped = true;
    const exits = this.shards.map((s) => new Promise<void>((res) => s.worker.once('exit', () => res())));
    this.broadcast({ type: 'stop', save, deadline });
    const timer = setTimeout(
      () => {
        for (const s of this.shards) void s.worker.terminate();
      },
      Math.max(2000, deadline - Date.now() + 2000),
    );
    await Promise.all(exits);
    clearTimeout(timer);
  }

  private full(i: number): false {
    // Publish now so the worker starts draining what is already queued.
    if (this.dirty[i]) {
      this.dirty[i] = false;
      this.shards[i]!.req.publish();
    }
    return false;
  }

  private arm(): void {
    if (this.stopped) return;
    const r = Atomics.waitAsync(this.ctl, BELL, this.bellSeen);
    if (r.async) void r.value.then(this.onBell);
    else setImmediate(this.onBell);
  }

  private readonly onBell = (): void => {
    this.bellSeen = Atomics.load(this.ctl, BELL);
    this.drainReplies();
    this.onDrained();
    this.arm();
  };

  private drainEvents(): void {
    this.eventsSeen = Atomics.load(this.ctl, EVENTS);
    for (const shard of this.shards) {
      let m;
      while ((m = receiveMessageOnPort(shard.eventsPort)) !== undefined)
        this.onEvents(m.message as ShardEvents);
    }
  }

  /** Drain all reply rings, handing each frame to the sink. */
  drainReplies(): void {
    const sink = this.sink!;
    // Events first: a shard posts them before publishing the replies of the same commands.
    if (Atomics.load(this.ctl, EVENTS) !== this.eventsSeen) this.drainEvents();
    for (let i = 0; i < this.count; i++) {
      const shard = this.shards[i]!;
      const rep = shard.rep;
      let off: number;
      let any = false;
      while ((off = rep.peek()) >= 0) {
        any = true;
        const w = off >> 2;
        const connId = rep.i32[w]!;
        const seq = rep.i32[w + 1]!;
        // Frames published after this drain began may follow events posted meanwhile.
        if (Atomics.load(this.ctl, EVENTS) !== this.eventsSeen) this.drainEvents();
        if (rep.i32[w + 2]! & FLAG_SPILL) {
          const body = receiveMessageOnPort(shard.spillIn)!.message as Uint8Array;
          const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
          sink(i, connId, seq, b, 0, b.length);
        } else {
          sink(i, connId, seq, rep.buf, off + REPLY_HEADER, rep.frameLen - REPLY_HEADER);
        }
        rep.advance();
      }
      if (any) rep.release();
    }
  }
}

let lensScratch = new Int32Array(256);
function lengthsScratch(starts: Int32Array, ends: Int32Array, idx: Int32Array, count: number): Int32Array {
  if (count > lensScratch.length) lensScratch = new Int32Array(Math.max(count, lensScratch.length * 2));
  for (let k = 0; k < count; k++) lensScratch[k] = ends[idx[k]!]! - starts[idx[k]!]!;
  return lensScratch;
}

/** Request frames collected for one parked shard (ShardSet.redirect), posted as one message. */
export class SessionFrames {
  u8 = new Uint8Array(4096);
  i32 = new Int32Array(this.u8.buffer);
  pos = 0;
  count = 0;

  reserve(size: number): number {
    if (this.pos + size > this.u8.length) {
      let n = this.u8.length * 2;
      while (n < this.pos + size) n *= 2;
      const u8 = new Uint8Array(n);
      u8.set(this.u8.subarray(0, this.pos));
      this.u8 = u8;
      this.i32 = new Int32Array(u8.buffer);
    }
    const off = this.pos;
    this.pos += size;
    return off;
  }

  /** The collected frames as a message; the buffer starts over. */
  take(): SessionMessage {
    const msg: SessionMessage = { t: 'frames', buf: this.u8.slice(0, this.pos), count: this.count };
    this.pos = 0;
    this.count = 0;
    return msg;
  }
}
