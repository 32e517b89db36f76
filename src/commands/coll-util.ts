/**
 * Shared by the hash and set commands: replies of latin1 strings and integers without building
 * Buffers, HSCAN/SSCAN argument parsing with Redis's rules (parseScanCursorOrReply and
 * scanGenericCommand), the COUNT parsing of the random-member commands, and random sampling.
 */
import { writeIntAscii } from '../protocol/numbers.ts';
import { E, REPLY_TOO_LARGE } from '../protocol/redis-errors.ts';
import type { RespWriter } from '../protocol/writer.ts';
import { writeLatin1 } from '../store/types/latin1.ts';
import { argInt64 } from './shard-util.ts';
import type { ShardContext } from './types.ts';

/** A bulk reply of a latin1 string (a hashtable member). */
export function bulkLatin1(out: RespWriter, s: string): void {
  const n = s.length;
  out.ensure(n + 24);
  const b = out.buf;
  let p = out.pos;
  b[p++] = 36;
  p = writeIntAscii(b, p, n);
  b[p++] = 13;
  b[p++] = 10;
  p = writeLatin1(b, p, s);
  b[p++] = 13;
  b[p++] = 10;
  out.pos = p;
}

/** A bulk reply of an integer's decimal digits (intset members, HINCRBY results). */
export function bulkInt(out: RespWriter, v: number | bigint): void {
  if (typeof v === 'bigint') return out.bulkString(v.toString());
  out.ensure(48);
  const b = out.buf;
  const start = out.pos;
  // Digits first, then the header in front of them once their count is known.
  const digitsAt = start + 24;
  const end = writeIntAscii(b, digitsAt, v);
  const n = end - digitsAt;
  let p = start;
  b[p++] = 36;
  p = writeIntAscii(b, p, n);
  b[p++] = 13;
  b[p++] = 10;
  b.copyWithin(p, digitsAt, end);
  p += n;
  b[p++] = 13;
  b[p++] = 10;
  out.pos = p;
}

export interface ScanArgs {
  /** The cursor as strtoul reads it (approximate beyond 2^53: only a position is needed). */
  cursor: number;
  count: number;
  /** MATCH pattern in req.u8, or -1 (none, or "*", which Redis skips as a no-op). */
  po: number;
  pl: number;
}

/**
 * Redis parseScanCursorOrReply (strtoul: optional sign, digits, no spaces, "" is 0, "-1" wraps
 * to 2^64-1). Returns NaN for an invalid cursor.
 */
export function scanCursor(u8: Uint8Array, off: number, len: number): number {
  if (len === 0) return 0;
  let p = off;
  const end = off + len;
  let neg = false;
  if (u8[p] === 43 || u8[p] === 45) {
    neg = u8[p] === 45;
    p++;
  }
  if (p === end) return NaN;
  let v = 0n;
  for (; p < end; p++) {
    const d = u8[p]! - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10n + BigInt(d);
    if (v > 0xffffffffffffffffn) return NaN;
  }
  if (neg && v !== 0n) v = (1n << 64n) - v;
  return Number(v);
}

/**
 * The options after HSCAN/SSCAN key cursor (arguments from `from` on), as scanGenericCommand
 * parses them for a key (TYPE is a syntax error there). Writes the error and returns null.
 */
export function scanOptions(c: ShardContext, from: number, cursor: number): ScanArgs | null {
  const { req, out } = c;
  const a: ScanArgs = { cursor, count: 10, po: -1, pl: 0 };
  for (let i = from; i < req.argc; i += 2) {
    const more = req.argc - i >= 2;
    if (more && req.is(i, 'COUNT')) {
      const n = argInt64(req, i + 1);
      if (n === null) {
        out.error(E.NOT_INTEGER);
        return null;
      }
      if (n < 1) {
        out.error(E.SYNTAX);
        return null;
      }
      a.count = Number(n);
    } else if (more && req.is(i, 'MATCH')) {
      const pl = req.len[i + 1]!;
      const po = req.off[i + 1]!;
      if (pl === 1 && req.u8[po] === 42) a.po = -1;
      else {
        a.po = po;
        a.pl = pl;
      }
    } else {
      out.error(E.SYNTAX);
      return null;
    }
  }
  return a;
}

/** The reply frame of a key scan: [cursor, [n items]] (the same in RESP2 and RESP3). */
export function scanHeader(out: RespWriter, cursor: number, n: number): void {
  out.arrayHeader(2);
  bulkInt(out, cursor);
  out.arrayHeader(n);
}

/**
 * Redis getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): the COUNT of SRANDMEMBER and
 * HRANDFIELD. Writes the error and returns null.
 */
export function randomCount(c: ShardContext, i: number): number | bigint | null {
  const v = argInt64(c.req, i);
  if (v === null) {
    c.out.error(E.NOT_INTEGER);
    return null;
  }
  if (v === -9223372036854775808n) {
    c.out.error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    return null;
  }
  return v;
}

/**
 * A reply of `n` random picks (with repetition: any n) is built whole in the shard before it is
 * sent: refuse one estimated beyond proto-max-bulk-len rather than exhaust the worker's memory
 * (Redis would keep writing until the client is disconnected or the process dies). `each` is
 * the average payload of one pick; 8 bytes of RESP framing come on top.
 */
export function tooLarge(c: ShardContext, n: number, each: number): boolean {
  if (n * (Math.max(0, each) + 8) <= c.maxBulkLen) return false;
  c.out.error(REPLY_TOO_LARGE);
  return true;
}

/** `count` distinct indexes in [0, size) in random order (count < size). */
export function sampleIndexes(size: number, count: number): Int32Array {
  const out = new Int32Array(count);
  if (count * 3 > size) {
    // Dense: a partial Fisher–Yates shuffle of every index.
    const all = new Int32Array(size);
    for (let i = 0; i < size; i++) all[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
      out[i] = all[i]!;
    }
    return out;
  }
  // Sparse: draw until enough distinct ones (Redis's CASE 4).
  const seen = new Set<number>();
  let k = 0;
  while (k < count) {
    const j = Math.floor(Math.random() * size);
    if (seen.has(j)) continue;
    seen.add(j);
    out[k++] = j;
  }
  return out;
}
