/**
 * Binary frames carried by the rings. All header fields are int32 words so both sides use a
 * plain Int32Array view (frames and argument lengths are 4-aligned).
 *
 * Request (main → shard):
 *   [connId][seq][cmd << 16 | db << 8 | flags][argc] then argc × ([len][bytes, padded to 4])
 * Reply (shard → main):
 *   [connId][seq][flags] then ready-to-send RESP bytes (frameLen - 12 of them)
 *
 * A request or reply larger than the ring's max frame travels whole through a MessagePort
 * ("spill"); the ring then carries only the header with FLAG_SPILL set, at the same position
 * in the order, and the consumer takes the body with receiveMessageOnPort.
 */

export const FLAG_RESP3 = 1;
export const FLAG_SPILL = 2;
/** Part of a cross-shard hold: the shard parks after executing it until the coordinator releases it. */
export const FLAG_HOLD = 4;

export const REQ_HEADER = 16;
export const REPLY_HEADER = 12;

/** Internal opcodes live above the command table's indexes. */
export const OP_BASE = 0xff00;

/** Total request frame bytes for the given argument lengths. */
export function requestSize(lens: ArrayLike<number>, count: number): number {
  let n = REQ_HEADER;
  for (let i = 0; i < count; i++) n += 4 + ((lens[i]! + 3) & ~3);
  return n;
}

/**
 * Writes a request frame into (u8, i32) at `off`. `args` are [src, start, end] triples given
 * as a source buffer plus parallel start/end arrays and a list of indexes to take, so a
 * multi-key command can be split across shards without building per-shard arrays of Buffers.
 */
export function writeRequest(
  u8: Uint8Array,
  i32: Int32Array,
  off: number,
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
): number {
  i32[off >> 2] = connId;
  i32[(off >> 2) + 1] = seq;
  i32[(off >> 2) + 2] = (cmd << 16) | (db << 8) | flags;
  i32[(off >> 2) + 3] = count;
  let p = off + REQ_HEADER;
  for (let k = 0; k < count; k++) {
    const a = idx[k]!;
    const s = starts[a]!;
    const e = ends[a]!;
    const len = e - s;
    i32[p >> 2] = len;
    p += 4;
    // Short keys are the common case: a byte loop beats the native copy's call overhead.
    if (len <= 32) for (let j = 0; j < len; j++) u8[p + j] = src[s + j]!;
    else src.copy(u8, p, s, e);
    p += (len + 3) & ~3;
  }
  return p - off;
}

/** Decoded view of one request; reused for every frame (no allocation per command). */
export class RequestView {
  u8: Uint8Array = new Uint8Array(0);
  connId = 0;
  seq = 0;
  cmd = 0;
  db = 0;
  flags = 0;
  argc = 0;
  /** Byte offset of argument i in u8. */
  off: Int32Array = new Int32Array(64);
  /** Length of argument i. */
  len: Int32Array = new Int32Array(64);

  decode(u8: Uint8Array, i32: Int32Array, off: number): void {
    const w = off >> 2;
    this.u8 = u8;
    this.connId = i32[w]!;
    this.seq = i32[w + 1]!;
    const h = i32[w + 2]!;
    this.cmd = h >>> 16;
    this.db = (h >>> 8) & 0xff;
    this.flags = h & 0xff;
    const argc = i32[w + 3]!;
    this.argc = argc;
    if (argc > this.off.length) {
      let n = this.off.length;
      while (n < argc) n *= 2;
      this.off = new Int32Array(n);
      this.len = new Int32Array(n);
    }
    let p = off + REQ_HEADER;
    for (let i = 0; i < argc; i++) {
      const len = i32[p >> 2]!;
      this.len[i] = len;
      this.off[i] = p + 4;
      p += 4 + ((len + 3) & ~3);
    }
  }

  /** Argument i as a string (for non-hot paths: options, error messages). */
  str(i: number): string {
    return Buffer.from(this.u8.buffer, this.u8.byteOffset + this.off[i]!, this.len[i]!).toString('utf8');
  }

  /** Argument i as a fresh Buffer copy (safe to keep after the frame is released). */
  copy(i: number): Buffer {
    const o = this.off[i]!;
    return Buffer.from(this.u8.subarray(o, o + this.len[i]!));
  }

  /** Case-insensitive compare of argument i with an upper-case ASCII word. */
  is(i: number, upperWord: string): boolean {
    const n = this.len[i]!;
    if (n !== upperWord.length) return false;
    const o = this.off[i]!;
    const u8 = this.u8;
    for (let k = 0; k < n; k++) {
      const c = u8[o + k]!;
      if ((c >= 97 && c <= 122 ? c - 32 : c) !== upperWord.charCodeAt(k)) return false;
    }
    return true;
  }
}
