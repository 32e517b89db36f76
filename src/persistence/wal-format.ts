/**
 * On-disk format of a shard's write-ahead log segment.
 *
 *   header (32 bytes): "TSWAL" 0 | u16 version | u32 shard | u32 shards | u32 seq | f64 created | u32 crc32c
 *   frames:            u32 payload length | u32 crc32c(payload) | payload
 *   payload:           records, each u32 length | u8 kind | body (length - 1 bytes)
 *
 * One frame is one group commit (everything logged between two flushes), so a torn write at a
 * crash loses at most the last, never-acknowledged frame. Record bodies are MessagePack
 * (decoded with msgpackr); the hot CMD record is written here byte by byte from ring memory
 * (no intermediate objects), GROUP and CLOCK carry fixed binary fields before their nesting.
 * All integers little-endian except inside MessagePack (big-endian by its spec).
 */
import { crc32c } from './crc32c.ts';

export const WAL_MAGIC = Buffer.from('TSWAL\0', 'latin1');
export const WAL_VERSION = 1;
export const WAL_HEADER = 32;
export const FRAME_HEADER = 8;

/** Time (ms) of the records that follow: replay runs commands at their original clock. */
export const K_CLOCK = 1;
/** A command: msgpack [db, name, ...args] (args as bin). */
export const K_CMD = 2;
/** A whole value: msgpack [db, key, type, expireAt, encoding, value | items]. */
export const K_PUT = 3;
/**
 * One shard's part of a multi-shard write: f64 epoch | u32 group id | u16 n | n × u16
 * participant shards | nested records. Replayed only when every participant logged it.
 */
export const K_GROUP = 4;

export interface WalHeader {
  shard: number;
  shards: number;
  seq: number;
  created: number;
}

export function encodeWalHeader(h: WalHeader): Buffer {
  const b = Buffer.alloc(WAL_HEADER);
  WAL_MAGIC.copy(b, 0);
  b.writeUInt16LE(WAL_VERSION, 6);
  b.writeUInt32LE(h.shard, 8);
  b.writeUInt32LE(h.shards, 12);
  b.writeUInt32LE(h.seq, 16);
  b.writeDoubleLE(h.created, 20);
  b.writeUInt32LE(crc32c(b, 0, 28), 28);
  return b;
}

/** The header, or an error string when the bytes are not a valid header of this version. */
export function parseWalHeader(b: Uint8Array): WalHeader | string {
  if (b.length < WAL_HEADER) return 'file shorter than the WAL header';
  const buf = Buffer.from(b.buffer, b.byteOffset, WAL_HEADER);
  if (!buf.subarray(0, 6).equals(WAL_MAGIC)) return 'not a Tessera WAL file (bad magic)';
  if (buf.readUInt32LE(28) !== crc32c(buf, 0, 28)) return 'WAL header checksum mismatch';
  const v = buf.readUInt16LE(6);
  if (v !== WAL_VERSION) return `unsupported WAL format version ${v}`;
  return {
    shard: buf.readUInt32LE(8),
    shards: buf.readUInt32LE(12),
    seq: buf.readUInt32LE(16),
    created: buf.readDoubleLE(20),
  };
}

/**
 * A growable byte buffer with MessagePack writers: the WAL's pending frame. Writing never
 * allocates unless the buffer must grow.
 */
export class ByteSink {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = Buffer.allocUnsafeSlow(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  bytes(src: Uint8Array, off: number, len: number): void {
    this.ensure(len);
    if (len <= 32) for (let i = 0; i < len; i++) this.buf[this.pos + i] = src[off + i]!;
    else this.buf.set(src.subarray(off, off + len), this.pos);
    this.pos += len;
  }

  // ---- MessagePack (big-endian lengths, per the spec) ----
  mpArray(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos] = 0xdc;
      this.buf.writeUInt16BE(n, this.pos + 1);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xdd;
      this.buf.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }
  /** A non-negative integer below 2^32. */
  mpUint(v: number): void {
    this.ensure(5);
    if (v < 128) this.buf[this.pos++] = v;
    else if (v < 256) {
      this.buf[this.pos++] = 0xcc;
      this.buf[this.pos++] = v;
    } else if (v < 0x10000) {
      this.buf[this.pos] = 0xcd;
      this.buf.writeUInt16BE(v, this.pos + 1);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xce;
      this.buf.writeUInt32BE(v, this.pos + 1);
      this.pos += 5;
    }
  }
  /** An ASCII string (command names). */
  mpStr(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    if (n < 32) this.buf[this.pos++] = 0xa0 | n;
    else {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = n;
    }
    for (let i = 0; i < n; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
  mpBin(src: Uint8Array, off: number, len: number): void {
    this.ensure(len + 5);
    if (len < 256) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = len;
    } else if (len < 0x10000) {
      this.buf[this.pos] = 0xc5;
      this.buf.writeUInt16BE(len, this.pos + 1);
      this.pos += 3;
    } else {
      this.buf[this.pos] = 0xc6;
      this.buf.writeUInt32BE(len, this.pos + 1);
      this.pos += 5;
    }
    this.bytes(src, off, len);
  }
  mpF64(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.buf.writeDoubleBE(v, this.pos + 1);
    this.pos += 9;
  }

  /** Start a record of `kind`; returns its position for endRecord. */
  beginRecord(kind: number): number {
    this.ensure(5);
    const at = this.pos;
    this.pos += 4;
    this.buf[this.pos++] = kind;
    return at;
  }
  endRecord(at: number): void {
    this.buf.writeUInt32LE(this.pos - at - 4, at);
  }
}

/** Fill in the frame header reserved at `start` for the payload up to sink.pos. */
export function sealFrame(sink: ByteSink, start: number): void {
  const len = sink.pos - start - FRAME_HEADER;
  sink.buf.writeUInt32LE(len, start);
  sink.buf.writeUInt32LE(crc32c(sink.buf, start + FRAME_HEADER, sink.pos), start + 4);
}

/** Calls fn(kind, body, start, end) for each record of a payload; false on a malformed record. */
export function forEachRecord(
  b: Uint8Array,
  start: number,
  end: number,
  fn: (kind: number, b: Uint8Array, start: number, end: number) => void,
): boolean {
  let p = start;
  while (p < end) {
    if (p + 5 > end) return false;
    const len = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    if (len < 1 || p + 4 + len > end) return false;
    fn(b[p + 4]!, b, p + 5, p + 4 + len);
    p += 4 + len;
  }
  return true;
}

export interface GroupHeader {
  epoch: number;
  gid: number;
  participants: number[];
  /** Offset of the nested records. */
  body: number;
}

export function parseGroup(b: Uint8Array, start: number, end: number): GroupHeader | null {
  if (start + 14 > end) return null;
  const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const n = v.readUInt16LE(start + 12);
  if (start + 14 + 2 * n > end) return null;
  const participants: number[] = [];
  for (let i = 0; i < n; i++) participants.push(v.readUInt16LE(start + 14 + 2 * i));
  return {
    epoch: v.readDoubleLE(start),
    gid: v.readUInt32LE(start + 8),
    participants,
    body: start + 14 + 2 * n,
  };
}

export const groupKey = (epoch: number, gid: number): string => `${epoch}:${gid}`;
