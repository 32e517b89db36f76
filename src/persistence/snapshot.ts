/**
 * The fork-less point-in-time snapshot of a live shard (file format: snapshot-format.ts; the
 * loader: snapshot-load.ts, re-exported here).
 *
 * Copy-on-write at key level (SnapshotWriter): the snapshot taken when WAL segment `walSeq`
 * starts is exactly the state at that point although the shard keeps serving. The writer
 * walks every db's slot array in slices of a few ms; a key the shard is about to read or
 * change (every command looks its key up first, expiry deletes through one path) is written
 * out before the command runs if the walk has not reached it yet (touch), and records created
 * after the start are marked so the walk skips them (created). Marks are one bit per arena
 * chunk, allocated only while a snapshot runs.
 */
import { writeSync } from 'node:fs';
import { crc32c } from './crc32c.ts';
import { ByteSink } from './wal-format.ts';
import { ENCODING, KEY_OFF, TYPE_STRING } from '../store/record.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { LARGE } from '../store/arena.ts';
import type { ItemSink } from '../store/object.ts';
import {
  B_DATA,
  B_END,
  B_META,
  encodeHeader,
  HEADER,
  packr,
  type SnapshotHeader,
  type SnapshotMeta,
} from './snapshot-format.ts';

export { SNAP_VERSION, type SnapshotHeader, type SnapshotMeta } from './snapshot-format.ts';
export { loadSnapshot, SnapshotError, verifySnapshot, type LoadResult } from './snapshot-load.ts';

const BLOCK_BYTES = 1 << 20;

export class SnapshotWriter {
  private readonly sink = new ByteSink(BLOCK_BYTES + 64 * 1024);
  private blockAt = -1;
  private readonly marks: (Uint8Array | undefined)[] = [];
  private readonly largeMarks = new Set<number>();
  private db = 0;
  private cursor = 0;
  /** KeyTable.layout of the table being walked (-1: not started). */
  private layout = -1;
  private done = false;
  /** Bytes written to the file so far. */
  bytes = 0;
  keys = 0;
  /** Keys at the start (INFO current_save_keys_total). */
  readonly total: number;

  private readonly ks: Keyspace;
  private readonly fd: number;

  constructor(ks: Keyspace, fd: number, header: SnapshotHeader, meta: SnapshotMeta) {
    this.ks = ks;
    this.fd = fd;
    let total = 0;
    const keys: number[] = [];
    for (let d = 0; d < ks.tables.length; d++) {
      keys.push(ks.keyCount(d));
      total += keys[d]!;
    }
    this.total = total;
    this.write(encodeHeader(header), HEADER);
    this.openBlock(B_META);
    const m = packr.pack({ ...meta, keys });
    this.sink.bytes(m, 0, m.length);
    this.closeBlock();
    this.openBlock(B_DATA);
  }

  /** Copy-on-write hook: h (in db) is about to be read, changed or deleted. */
  touch(h: number, db: number): void {
    if (this.marked(h)) return;
    this.mark(h);
    this.emit(h, db);
  }

  /** Hook: h was created (or moved to a new chunk) after the snapshot started. */
  created(h: number): void {
    this.mark(h);
  }

  /**
   * Walk the tables until `deadline` (performance.now() ms); true once every key has been
   * written. Slot order, not SCAN order (KeyTable.walk): when a table's slot array was
   * replaced between two slices (resize), its walk starts over and the marks skip the keys
   * already written.
   */
  step(deadline: number): boolean {
    const ks = this.ks;
    let n = 0;
    while (!this.done) {
      const t = ks.table(this.db);
      t.settle();
      if (t.layout !== this.layout) {
        this.layout = t.layout;
        this.cursor = 0;
      }
      this.cursor = t.walk(this.cursor, 128, this.visit);
      if (this.cursor === 0) {
        this.layout = -1;
        if (++this.db >= ks.tables.length) this.done = true;
      }
      if (this.sink.pos - this.blockAt > BLOCK_BYTES) this.rollBlock();
      if ((++n & 7) === 0 && performance.now() >= deadline) break;
    }
    return this.done;
  }

  /** Write the END block; returns the file size. */
  finish(): number {
    this.closeBlock();
    this.openBlock(B_END);
    this.sink.f64(this.keys);
    this.closeBlock();
    this.flushSink();
    return this.bytes;
  }

  private readonly visit = (h: number): void => {
    if (this.marked(h)) return;
    this.mark(h);
    this.emit(h, this.db);
  };

  private marked(h: number): boolean {
    if ((h & LARGE) !== 0) return this.largeMarks.has(h);
    const bits = this.marks[h >>> 17];
    return bits !== undefined && (bits[(h & 0x1ffff) >>> 3]! & (1 << (h & 7))) !== 0;
  }

  private mark(h: number): void {
    if ((h & LARGE) !== 0) {
      this.largeMarks.add(h);
      return;
    }
    const page = h >>> 17;
    const bits = (this.marks[page] ??= new Uint8Array(1 << 14));
    bits[(h & 0x1ffff) >>> 3]! |= 1 << (h & 7);
  }

  private emit(h: number, db: number): void {
    const ks = this.ks;
    const s = this.sink;
    const u8 = ks.arena.u8(h);
    const b = ks.arena.base(h);
    const type = ks.type(h);
    const klen = ks.keyLength(h);
    s.u8(type);
    s.u8(db);
    s.u8(u8[b + ENCODING]!);
    s.f64(ks.getExpire(h));
    s.u32(klen);
    s.bytes(u8, b + KEY_OFF, klen);
    if (type === TYPE_STRING) {
      const vlen = ks.valueLength(h);
      s.u32(vlen);
      s.bytes(u8, ks.valueOffset(h), vlen);
    } else {
      const obj = ks.getObject(h);
      if (obj.dumpTo !== undefined) obj.dumpTo(this.items);
      else {
        const items = obj.dump();
        s.u32(items.length);
        for (const it of items) {
          s.u32(it.length);
          s.bytes(it, 0, it.length);
        }
      }
    }
    this.keys++;
  }

  /** Elements of a value straight into the block (StoreObject.dumpTo). */
  private readonly items: ItemSink = {
    count: (n) => this.sink.u32(n),
    item: (u8, off, len) => {
      this.sink.u32(len);
      this.sink.bytes(u8, off, len);
    },
  };

  private openBlock(kind: number): void {
    this.blockAt = this.sink.pos;
    this.sink.ensure(9);
    this.sink.pos += 8;
    this.sink.u8(kind);
  }

  private closeBlock(): void {
    const s = this.sink;
    const at = this.blockAt;
    s.buf.writeUInt32LE(s.pos - at - 8, at);
    s.buf.writeUInt32LE(crc32c(s.buf, at + 8, s.pos), at + 4);
  }

  private rollBlock(): void {
    this.closeBlock();
    this.flushSink();
    this.openBlock(B_DATA);
  }

  private flushSink(): void {
    this.write(this.sink.buf, this.sink.pos);
    this.sink.pos = 0;
  }

  private write(b: Buffer, len: number): void {
    let done = 0;
    while (done < len) done += writeSync(this.fd, b, done, len - done, this.bytes + done);
    this.bytes += len;
  }
}
