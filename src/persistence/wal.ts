/**
 * A shard's WAL writer: records accumulate in one pending frame (ByteSink) while the shard
 * executes a batch; flush() writes the frame with one pwrite (and, for appendfsync always,
 * one fdatasync) right before the batch's replies are published — group commit.
 *
 * A failed write keeps the frame: nothing is lost, the next flush retries it at the same file
 * offset (overwriting any partial write), and the caller refuses new writes meanwhile.
 * A multi-shard write's records are nested in a GROUP record (beginGroup/endGroup); an open
 * group is never split across frames.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import {
  ByteSink,
  encodeWalHeader,
  FRAME_HEADER,
  K_CLOCK,
  K_CMD,
  K_GROUP,
  K_PUT,
  sealFrame,
} from './wal-format.ts';
import { errnoOf } from './errno.ts';
import { fsyncDir, segmentPath } from './files.ts';
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export class Wal {
  readonly sink = new ByteSink();
  fd = -1;
  seq = 0;
  /** Bytes in the current segment file (header included). */
  written = 0;
  /** Bytes ever appended by this process (STATS wal_position). */
  logged = 0;
  /** Bytes of `logged` made durable by an fsync. */
  synced = 0;
  /** errno of the last failed write or fsync; 0 when the last one succeeded. */
  errno = 0;
  private lastClock = -1;
  private groupAt = -1;
  private groupDepth = 0;
  /** Records in the pending frame. */
  records = 0;

  readonly dir: string;
  readonly shard: number;
  readonly shards: number;

  constructor(dir: string, shard: number, shards: number) {
    this.dir = dir;
    this.shard = shard;
    this.shards = shards;
    this.sink.pos = FRAME_HEADER;
  }

  get open(): boolean {
    return this.fd >= 0;
  }

  get pending(): boolean {
    return this.records > 0;
  }

  /** Start segment `seq` (a new file, its directory entry made durable). */
  openSegment(seq: number): void {
    const path = segmentPath(this.dir, this.shard, this.shards, seq);
    const fd = openSync(path, 'w');
    const header = encodeWalHeader({ shard: this.shard, shards: this.shards, seq, created: Date.now() });
    writeSync(fd, header, 0, header.length, 0);
    fdatasyncSync(fd);
    fsyncDir(this.dir);
    this.fd = fd;
    this.seq = seq;
    this.written = header.length;
    this.lastClock = -1;
  }

  /** Flush and fsync what is pending, then close the segment. */
  closeSegment(): boolean {
    if (this.fd < 0) return true;
    const ok = this.flush(true);
    if (ok) {
      closeSync(this.fd);
      this.fd = -1;
    }
    return ok;
  }

  /** Drop pending records (appendonly turned off with a failing disk). */
  discard(): void {
    this.sink.pos = FRAME_HEADER;
    this.records = 0;
    this.groupAt = -1;
    this.groupDepth = 0;
  }

  clock(now: number): void {
    if (now === this.lastClock) return;
    this.lastClock = now;
    const s = this.sink;
    const at = s.beginRecord(K_CLOCK);
    s.f64(now);
    s.endRecord(at);
    this.records++;
  }

  /** A command as the shard received it: name, then argc args of (u8, off[], len[]). */
  command(
    now: number,
    db: number,
    name: string,
    u8: Uint8Array,
    off: Int32Array,
    len: Int32Array,
    argc: number,
  ): void {
    this.clock(now);
    const s = this.sink;
    const at = s.beginRecord(K_CMD);
    s.mpArray(argc + 2);
    s.mpUint(db);
    s.mpStr(name);
    for (let i = 0; i < argc; i++) s.mpBin(u8, off[i]!, len[i]!);
    s.endRecord(at);
    this.records++;
  }

  /** A command given as argv (name first): c.propagate() rewrites, expiry DELs. */
  argv(now: number, db: number, argv: readonly (string | Uint8Array)[]): void {
    this.clock(now);
    const s = this.sink;
    const at = s.beginRecord(K_CMD);
    s.mpArray(argv.length + 1);
    s.mpUint(db);
    s.mpStr(String(argv[0]).toLowerCase());
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!;
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      s.mpBin(b, 0, b.length);
    }
    s.endRecord(at);
    this.records++;
  }

  /** DEL of one key (expiry, cross-shard deletes). */
  del(now: number, db: number, u8: Uint8Array, off: number, len: number): void {
    this.clock(now);
    const s = this.sink;
    const at = s.beginRecord(K_CMD);
    s.mpArray(3);
    s.mpUint(db);
    s.mpStr('del');
    s.mpBin(u8, off, len);
    s.endRecord(at);
    this.records++;
  }

  /** A whole value (cross-shard writes decided on main). */
  put(
    now: number,
    db: number,
    key: Uint8Array,
    type: number,
    value: Uint8Array | Uint8Array[],
    expireAt: number,
    encoding: number,
  ): void {
    this.clock(now);
    const s = this.sink;
    const at = s.beginRecord(K_PUT);
    const body = packr.pack([db, key, type, expireAt, encoding, value]);
    s.bytes(body, 0, body.length);
    s.endRecord(at);
    this.records++;
  }

  /** Open a group (nested calls join the outer one). */
  beginGroup(now: number, epoch: number, gid: number, participants: readonly number[]): void {
    if (this.groupDepth++ > 0) return;
    // The clock goes outside: a skipped group must not hide the time later records run at.
    this.clock(now);
    const s = this.sink;
    this.groupAt = s.beginRecord(K_GROUP);
    s.f64(epoch);
    s.u32(gid);
    s.u16(participants.length);
    for (const p of participants) s.u16(p);
    this.records++;
  }

  endGroup(): void {
    if (this.groupDepth === 0 || --this.groupDepth > 0) return;
    this.sink.endRecord(this.groupAt);
    this.groupAt = -1;
    this.lastClock = -1;
  }

  get inGroup(): boolean {
    return this.groupDepth > 0;
  }

  /**
   * Write the pending frame (everything before an open group) at the end of the segment and,
   * with `sync`, fdatasync it. Returns false on an I/O error (errno set, frame kept).
   */
  flush(sync: boolean): boolean {
    const s = this.sink;
    const end = this.groupAt >= 0 ? this.groupAt : s.pos;
    try {
      if (end > FRAME_HEADER && this.fd >= 0) {
        const tail = s.pos;
        s.pos = end;
        sealFrame(s, 0);
        s.pos = tail;
        let done = 0;
        while (done < end) done += writeSync(this.fd, s.buf, done, end - done, this.written + done);
        this.written += end;
        this.logged += end;
        // The open group (if any) moves to the start of the next frame.
        if (tail > end) s.buf.copy(s.buf, FRAME_HEADER, end, tail);
        s.pos = FRAME_HEADER + (tail - end);
        if (this.groupAt >= 0) this.groupAt = FRAME_HEADER;
        this.records = this.groupAt >= 0 ? 1 : 0;
      } else if (this.fd < 0 && end > FRAME_HEADER) {
        // appendonly off: nothing to write to.
        this.discard();
      }
      if (sync && this.fd >= 0 && this.synced < this.logged) {
        fdatasyncSync(this.fd);
        this.synced = this.logged;
      }
      this.errno = 0;
      return true;
    } catch (err) {
      this.errno = errnoOf(err);
      return false;
    }
  }
}
