/**
 * Snapshot scheduling inside a shard: BGSAVE/SAVE/BGREWRITEAOF requests and the automatic
 * rewrite when the WAL outgrew the last snapshot. Starting one rotates the WAL (the snapshot
 * is the state at the start of the new segment), then SnapshotWriter runs in slices of
 * ~2 ms per loop turn; the fsync + rename + directory fsync and the removal of the covered
 * segments happen in the persistence I/O thread, so the shard never waits on them.
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { receiveMessageOnPort } from 'node:worker_threads';
import { errnoOf, strerror } from './errno.ts';
import { snapshotPath } from './files.ts';
import * as P from './status.ts';
import { SnapshotWriter } from './snapshot.ts';
import { commitSnapshot, type IoReply, type IoRequest } from './snapshot-commit.ts';
import type { ShardPersistence } from './shard-persist.ts';

const SLICE_MS = 2;
const park = new Int32Array(new SharedArrayBuffer(4));

export class Snapshots {
  private writer: SnapshotWriter | null = null;
  private fd = -1;
  private tmp = '';
  private seq = 0;
  private started = 0;
  private loggedAtStart = 0;
  private finishing = false;
  private size = 0;
  private lastKeys = 0;
  /** Requests (ids from main; -1 internal) waiting for the running snapshot. */
  private waiting: number[] = [];
  /** Requests that arrived while one was being finished: a new snapshot follows. */
  private queued: number[] = [];
  restartAfterCommand = false;
  /** Set at shutdown: queued requests are not started any more. */
  closing = false;
  dirtyAtSave = 0;
  private lastAuto = 0;
  private failures = 0;
  private lastFailure = 0;
  private lastErrno = 0;

  private readonly p: ShardPersistence;

  constructor(p: ShardPersistence) {
    this.p = p;
  }

  get running(): boolean {
    return this.writer !== null;
  }

  /** Bytes logged since the running snapshot started (its WAL tail). */
  get walSinceStart(): number {
    return this.p.wal.logged - this.loggedAtStart;
  }

  /** Expected size of the running snapshot's file (from its progress), else 0. */
  get expectedSize(): number {
    const w = this.writer;
    return w === null || w.keys === 0 ? 0 : (w.bytes / w.keys) * w.total;
  }

  /** Keys and file size of the last snapshot written. */
  get last(): { keys: number; bytes: number } {
    return { keys: this.lastKeys, bytes: this.size };
  }

  request(id: number): void {
    if (this.writer === null && !this.finishing) {
      this.waiting.push(id);
      this.start();
    } else this.queued.push(id);
  }

  private start(): void {
    const p = this.p;
    const wal = p.wal;
    const ks = p.ctx.ks;
    const st = p.status;
    const seq = wal.seq + 1;
    try {
      if (p.logging) {
        if (!wal.closeSegment()) throw Object.assign(new Error('WAL flush failed'), { code: 'EIO' });
        p.publishWal();
        wal.openSegment(seq);
        st[P.P_FD] = wal.fd;
      } else wal.seq = seq;
      this.seq = seq;
      this.tmp = snapshotPath(p.init.dir, p.init.shard, p.init.shards, seq) + '.tmp';
      this.fd = openSync(this.tmp, 'w');
      this.writer = new SnapshotWriter(
        ks,
        this.fd,
        { shard: p.init.shard, shards: p.init.shards, walSeq: seq, created: Date.now() },
        { epoch: p.epoch, maxGid: p.maxGid },
      );
    } catch (err) {
      this.fail(err);
      return;
    }
    ks.snapshot = this.writer;
    this.started = Date.now();
    this.loggedAtStart = wal.logged;
    this.dirtyAtSave = ks.dirty;
    st[P.P_SAVING] = 1;
    st[P.P_SAVE_START] = this.started;
    st[P.P_SAVE_TOTAL] = this.writer.total;
    st[P.P_SAVE_KEYS] = 0;
  }

  /**
   * FLUSHALL/FLUSHDB/SWAPDB replaced whole tables: start over from the state after them (the
   * same requests wait for the new one). `force`: start over anyway (shutdown).
   */
  restartIfNeeded(force = false): void {
    if (!this.restartAfterCommand && !force) return;
    this.restartAfterCommand = false;
    if (this.writer !== null) {
      const ids = this.waiting;
      this.discard();
      this.waiting = ids;
      this.start();
    }
  }

  tick(now: number): void {
    this.restartIfNeeded();
    const w = this.writer;
    if (w !== null) {
      try {
        const done = w.step(performance.now() + SLICE_MS);
        this.p.status[P.P_SAVE_KEYS] = w.keys;
        if (done) this.finish(w);
      } catch (err) {
        this.fail(err);
      }
    }
    if (this.finishing) {
      const m = receiveMessageOnPort(this.p.ioPort);
      if (m !== undefined) this.finished(m.message as IoReply);
    }
    if (now - this.lastAuto >= 100) {
      this.lastAuto = now;
      this.auto(now);
    }
  }

  /**
   * The scan is complete: write the END block and have the file committed — by the I/O
   * thread, or with `here` in this thread (returns whether it succeeded; nothing left to serve).
   */
  private finish(w: SnapshotWriter, here = false): boolean {
    this.size = w.finish();
    this.lastKeys = w.keys;
    const p = this.p;
    p.ctx.ks.snapshot = null;
    this.writer = null;
    this.finishing = true;
    const req: IoRequest = {
      t: 'finish',
      fd: this.fd,
      tmp: this.tmp,
      final: this.tmp.slice(0, -4),
      dir: p.init.dir,
      shard: p.init.shard,
      shards: p.init.shards,
      seq: this.seq,
    };
    this.fd = -1;
    if (!here) {
      p.ioPort.postMessage(req);
      return true;
    }
    const r = commitSnapshot(req);
    this.finished(r);
    return r.ok;
  }

  private finished(r: IoReply): void {
    this.finishing = false;
    const st = this.p.status;
    if (!r.ok) {
      this.fail(Object.assign(new Error(strerror(r.errno ?? 0)), { errno: r.errno }));
      return;
    }
    const now = Date.now();
    st[P.P_SAVING] = 0;
    st[P.P_LAST_SAVE] = now;
    st[P.P_LAST_SAVE_OK] = 1;
    st[P.P_LAST_SAVE_SECS] = Math.round((now - this.started) / 1000);
    st[P.P_SAVES]!++;
    st[P.P_BASE_BYTES] = this.size;
    st[P.P_WAL_BYTES] = this.p.wal.logged - this.loggedAtStart;
    st[P.P_SNAP_FAILURES] = 0;
    this.failures = 0;
    this.done(true);
  }

  private fail(err: unknown): void {
    const msg = (err as Error).message;
    this.lastErrno = errnoOf(err);
    this.discard();
    const st = this.p.status;
    st[P.P_SAVING] = 0;
    st[P.P_LAST_SAVE_OK] = 0;
    st[P.P_SNAP_FAILURES]!++;
    this.failures++;
    this.lastFailure = Date.now();
    this.p.log('error', `snapshot failed: ${msg} (${strerror(errnoOf(err))})`);
    this.done(false, msg);
  }

  private done(ok: boolean, error?: string): void {
    const ids = this.waiting.filter((id) => id >= 0);
    this.waiting = [];
    if (ids.length > 0) this.p.post({ t: 'saved', shard: this.p.init.shard, ids, ok, error });
    if (this.queued.length > 0 && !this.closing) {
      const q = this.queued;
      this.queued = [];
      for (const id of q) this.request(id);
    }
  }

  /** Drop the running snapshot's temp file (the WAL rotation stays: it is harmless). */
  private discard(): void {
    if (this.writer !== null) this.p.ctx.ks.snapshot = null;
    this.writer = null;
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
        unlinkSync(this.tmp);
      } catch {
        // the temp file may be gone already
      }
      this.fd = -1;
    }
  }

  abort(reason: string): void {
    if (this.writer === null) return;
    this.discard();
    this.p.status[P.P_SAVING] = 0;
    this.done(false, reason);
  }

  /** Redis's auto-aof-rewrite: WAL grown by `percentage` over the last snapshot and past min-size. */
  private auto(now: number): void {
    const p = this.p;
    const pct = p.init.autoPct;
    if (!p.logging || pct <= 0 || this.writer !== null || this.finishing) return;
    if (this.failures > 0 && now - this.lastFailure < 10_000 * Math.min(this.failures, 6)) return;
    const st = p.status;
    const base = st[P.P_BASE_BYTES]!;
    const cur = base + st[P.P_WAL_BYTES]!;
    if (cur <= p.init.autoMin / p.init.shards) return;
    if ((cur * 100) / Math.max(base, 1) - 100 >= pct) this.request(-1);
  }

  /**
   * Run the running snapshot to its end in this thread and commit it here. False when
   * `deadline` (Date.now() ms) came first — the temp file is dropped, the WAL still holds
   * everything — or it failed.
   */
  complete(deadline: number): boolean {
    const w = this.writer;
    if (w === null) return false;
    try {
      if (!w.step(performance.now() + (deadline - Date.now()))) {
        this.abort('not finished before the shutdown deadline');
        return false;
      }
      return this.finish(w, true);
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Start a snapshot now (not queued behind anything); false if it could not start. */
  startNow(): boolean {
    if (this.writer !== null || this.finishing) return false;
    this.waiting.push(-1);
    this.start();
    return this.writer !== null;
  }

  /** Wait until the I/O thread has committed a finished snapshot; false at `deadline`. */
  settle(deadline: number): boolean {
    while (this.finishing) {
      const m = receiveMessageOnPort(this.p.ioPort);
      if (m !== undefined) {
        this.finished(m.message as IoReply);
        break;
      }
      if (Date.now() >= deadline) return false;
      Atomics.wait(park, 0, 0, 5);
    }
    return true;
  }

  /** Synchronous snapshot (after a reshard, before serving): the whole keyspace at once. */
  writeNow(): void {
    if (!this.startNow()) throw new Error('snapshot could not start');
    if (!this.complete(Infinity)) throw new Error(`snapshot failed: ${strerror(this.lastErrno)}`);
  }
}
