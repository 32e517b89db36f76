/**
 * Snapshot files and the fork-less point-in-time snapshot of a live shard.
 *
 * File: header (32 bytes: "TSSNP" 0 | u16 version | u32 shard | u32 shards | u32 walSeq |
 * f64 created | u32 crc32c), then blocks `u32 length | u32 crc32c(kind + body) | u8 kind | body`:
 * one META (msgpack {epoch, maxGid}), DATA blocks of entries, one END (f64 key count). A file
 * without its END block, or with any checksum mismatch, is not a valid snapshot.
 * Entry: u8 type | u8 db | u8 encoding | f64 expireAt | u32 key length | key, then for a
 * string u32 length | bytes, for other types u32 count | count × (u32 length | bytes) from
 * StoreObject.dump() (rebuilt with restoreObject).
 *
 * Copy-on-write at key level (SnapshotWriter): the snapshot taken when WAL segment `walSeq`
 * starts is exactly the state at that point although the shard keeps serving. The writer
 * scans every db with the rehash-safe SCAN cursor in slices of a few ms; a key the shard is
 * about to read or change (every command looks its key up first, expiry deletes through one
 * path) is written out before the command runs if the scan has not reached it yet (touch),
 * and records created after the start are marked so the scan skips them (created). Marks are
 * one bit per arena chunk, allocated only while a snapshot runs.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { crc32c } from './crc32c.ts';
import { ByteSink } from './wal-format.ts';
import { Window } from './wal-reader.ts';
import { ENCODING, KEY_OFF, TYPE_STRING } from '../store/record.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { LARGE } from '../store/arena.ts';
import { restoreObject } from '../store/object.ts';

const MAGIC = Buffer.from('TSSNP\0', 'latin1');
export const SNAP_VERSION = 1;
const HEADER = 32;
const B_META = 1;
const B_DATA = 2;
const B_END = 3;
const BLOCK_BYTES = 1 << 20;
const packr = new Packr({ useRecords: false });

export interface SnapshotHeader {
  shard: number;
  shards: number;
  /** The snapshot is the state at the start of this WAL segment. */
  walSeq: number;
  created: number;
}

/** Groups of `epoch` up to `maxGid` that this shard took part in are inside the snapshot. */
export interface SnapshotMeta {
  epoch: number;
  maxGid: number;
}

function encodeHeader(h: SnapshotHeader): Buffer {
  const b = Buffer.alloc(HEADER);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(SNAP_VERSION, 6);
  b.writeUInt32LE(h.shard, 8);
  b.writeUInt32LE(h.shards, 12);
  b.writeUInt32LE(h.walSeq, 16);
  b.writeDoubleLE(h.created, 20);
  b.writeUInt32LE(crc32c(b, 0, 28), 28);
  return b;
}

export class SnapshotWriter {
  private readonly sink = new ByteSink(BLOCK_BYTES + 64 * 1024);
  private blockAt = -1;
  private readonly marks: (Uint8Array | undefined)[] = [];
  private readonly largeMarks = new Set<number>();
  private db = 0;
  private cursor = 0;
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
    for (let d = 0; d < ks.tables.length; d++) total += ks.keyCount(d);
    this.total = total;
    this.write(encodeHeader(header), HEADER);
    this.openBlock(B_META);
    const m = packr.pack(meta);
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

  /** Scan until `deadline` (performance.now() ms); true once every key has been written. */
  step(deadline: number): boolean {
    const ks = this.ks;
    let n = 0;
    while (!this.done) {
      this.cursor = ks.table(this.db).scan(this.cursor, 128, this.visit);
      if (this.cursor === 0 && ++this.db >= ks.tables.length) this.done = true;
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
      const items = ks.getObject(h).dump();
      s.u32(items.length);
      for (const it of items) {
        s.u32(it.length);
        s.bytes(it, 0, it.length);
      }
    }
    this.keys++;
  }

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

export interface LoadResult {
  header: SnapshotHeader;
  meta: SnapshotMeta;
  keys: number;
  expired: number;
  bytes: number;
}

export class SnapshotError extends Error {}

/**
 * Load a snapshot into `ks`: keys for which `keep(key bytes)` is false (another shard's slots
 * after a shard-count change) and keys already expired at `now` are skipped. Throws
 * SnapshotError naming the offset when the file is damaged (ks then holds a partial load).
 */
export function loadSnapshot(
  file: string,
  ks: Keyspace,
  now: number,
  keep: ((u8: Uint8Array, off: number, len: number) => boolean) | null,
): LoadResult {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const w = new Window(fd, size);
    if (!w.load(0, HEADER)) throw new SnapshotError(`${file}: shorter than a snapshot header`);
    const hb = w.buf;
    if (!hb.subarray(0, 6).equals(MAGIC)) throw new SnapshotError(`${file}: not a Tessera snapshot`);
    if (hb.readUInt32LE(28) !== crc32c(hb, 0, 28))
      throw new SnapshotError(`${file}: header checksum mismatch`);
    if (hb.readUInt16LE(6) !== SNAP_VERSION)
      throw new SnapshotError(`${file}: unsupported snapshot version ${hb.readUInt16LE(6)}`);
    const header: SnapshotHeader = {
      shard: hb.readUInt32LE(8),
      shards: hb.readUInt32LE(12),
      walSeq: hb.readUInt32LE(16),
      created: hb.readDoubleLE(20),
    };
    let meta: SnapshotMeta | null = null;
    let keys = 0;
    let expired = 0;
    let off = HEADER;
    for (;;) {
      if (!w.load(off, 9)) throw new SnapshotError(`${file}: truncated at offset ${off} (no END block)`);
      const len = w.buf.readUInt32LE(off - w.base);
      const crc = w.buf.readUInt32LE(off - w.base + 4);
      if (!w.load(off, 8 + len)) throw new SnapshotError(`${file}: block at offset ${off} runs past the end`);
      const s = off - w.base + 8;
      if (crc32c(w.buf, s, s + len) !== crc)
        throw new SnapshotError(`${file}: checksum mismatch at offset ${off}`);
      const kind = w.buf[s]!;
      if (kind === B_META) meta = packr.unpack(w.buf.subarray(s + 1, s + len)) as SnapshotMeta;
      else if (kind === B_END) {
        if (meta === null) throw new SnapshotError(`${file}: no META block`);
        return { header, meta, keys, expired, bytes: size };
      } else if (kind === B_DATA) {
        const r = loadEntries(w.buf, s + 1, s + len, ks, now, keep);
        if (r < 0) throw new SnapshotError(`${file}: malformed entry in block at offset ${off}`);
        keys += r;
        expired += lastExpired;
      } else throw new SnapshotError(`${file}: unknown block kind ${kind} at offset ${off}`);
      off += 8 + len;
    }
  } finally {
    closeSync(fd);
  }
}

let lastExpired = 0;
function loadEntries(
  b: Buffer,
  p: number,
  end: number,
  ks: Keyspace,
  now: number,
  keep: ((u8: Uint8Array, off: number, len: number) => boolean) | null,
): number {
  let keys = 0;
  lastExpired = 0;
  while (p < end) {
    if (p + 15 > end) return -1;
    const type = b[p]!;
    const db = b[p + 1]!;
    const enc = b[p + 2]!;
    const exp = b.readDoubleLE(p + 3);
    const klen = b.readUInt32LE(p + 11);
    const ko = p + 15;
    p = ko + klen;
    if (p + 4 > end || db >= ks.tables.length) return -1;
    const skip = (exp !== 0 && exp <= now) || (keep !== null && !keep(b, ko, klen));
    if (type === TYPE_STRING) {
      const vlen = b.readUInt32LE(p);
      const vo = p + 4;
      p = vo + vlen;
      if (p > end) return -1;
      if (skip) {
        if (exp !== 0 && exp <= now) lastExpired++;
        continue;
      }
      const h = ks.lookup(db, b, ko, klen);
      const nh = ks.writeString(db, h, b, ko, klen, vlen, exp);
      const dst = ks.arena.u8(nh);
      const d = ks.valueOffset(nh);
      if (vlen <= 32) for (let i = 0; i < vlen; i++) dst[d + i] = b[vo + i]!;
      else dst.set(b.subarray(vo, vo + vlen), d);
      dst[ks.arena.base(nh) + ENCODING] = enc;
    } else {
      const n = b.readUInt32LE(p);
      p += 4;
      const items: Uint8Array[] = skip ? [] : new Array<Uint8Array>(n);
      for (let i = 0; i < n; i++) {
        if (p + 4 > end) return -1;
        const l = b.readUInt32LE(p);
        if (p + 4 + l > end) return -1;
        // Copies: restored objects keep their members, the read window is reused.
        if (!skip) items[i] = new Uint8Array(b.subarray(p + 4, p + 4 + l));
        p += 4 + l;
      }
      if (skip) {
        if (exp !== 0 && exp <= now) lastExpired++;
        continue;
      }
      const h = ks.lookup(db, b, ko, klen);
      ks.writeObject(db, h, b, ko, klen, restoreObject(type, items), exp);
    }
    keys++;
  }
  return keys;
}

/** Check a snapshot's header and every block checksum without loading it; null when valid. */
export function verifySnapshot(file: string): string | null {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const w = new Window(fd, size);
    if (!w.load(0, HEADER)) return 'shorter than a snapshot header';
    if (!w.buf.subarray(0, 6).equals(MAGIC)) return 'not a Tessera snapshot';
    if (w.buf.readUInt32LE(28) !== crc32c(w.buf, 0, 28)) return 'header checksum mismatch';
    let off = HEADER;
    for (;;) {
      if (!w.load(off, 9)) return `truncated at offset ${off} (no END block)`;
      const len = w.buf.readUInt32LE(off - w.base);
      const crc = w.buf.readUInt32LE(off - w.base + 4);
      if (!w.load(off, 8 + len)) return `block at offset ${off} runs past the end`;
      const s = off - w.base + 8;
      if (crc32c(w.buf, s, s + len) !== crc) return `checksum mismatch at offset ${off}`;
      if (w.buf[s] === B_END) return null;
      off += 8 + len;
    }
  } finally {
    closeSync(fd);
  }
}
