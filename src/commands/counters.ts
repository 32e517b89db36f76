import { parseInt64, parseSafeInt } from '../protocol/numbers.ts';
import { E } from '../protocol/redis-errors.ts';
import { ENC_NO_INT, ENCODING } from '../store/record.ts';
import { addLongDouble, formatHuman, parseLongDouble, type LongDouble } from '../util/decimal.ts';
import { NOTIFY_STRING } from './notify-flags.ts';
import { argInt, lookupString, storeBytes } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const digits = Buffer.allocUnsafe(24);

/**
 * INCR family. The common case (both numbers within ±2^53) stays in doubles and writes the
 * digits straight into the record; the full signed 64-bit range falls back to BigInt.
 */
function incrBy(c: ShardContext, incr: number, bigIncr: bigint | null): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  const ks = c.ks;
  let cur = 0;
  let bigCur: bigint | null = null;
  if (h !== 0) {
    const u8 = ks.arena.u8(h);
    const o = ks.valueOffset(h);
    const n = ks.valueLength(h);
    cur = parseSafeInt(u8, o, n);
    if (Number.isNaN(cur)) {
      bigCur = parseInt64(u8, o, n);
      if (bigCur === null) return c.out.error(E.NOT_INTEGER);
    }
  }
  let text: string | null = null;
  if (bigCur === null && bigIncr === null) {
    const r = cur + incr;
    if (Number.isSafeInteger(r)) return writeNumber(c, h, r);
    bigCur = BigInt(cur);
    bigIncr = BigInt(incr);
  }
  const a = bigCur ?? BigInt(cur);
  const b = bigIncr ?? BigInt(incr);
  const r = a + b;
  if (r > INT64_MAX || r < INT64_MIN) return c.out.error(E.OVERFLOW);
  text = r.toString();
  c.modified(storeBytes(c, h, 0, Buffer.from(text), -1), NOTIFY_STRING, 'incrby');
  c.out.bigint(r);
}

function writeNumber(c: ShardContext, h: number, r: number): void {
  const len = asciiInt(r);
  c.modified(storeBytes(c, h, 0, digits.subarray(0, len), -1), NOTIFY_STRING, 'incrby');
  c.out.integer(r);
}

function asciiInt(n: number): number {
  let p = 0;
  if (n < 0) {
    digits[p++] = 45;
    n = -n;
  }
  const start = p;
  do {
    digits[p++] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  digits.subarray(start, p).reverse();
  return p;
}

function incrArg(c: ShardContext, i: number, negate: boolean): void {
  const n = argInt(c.req, i);
  if (!Number.isNaN(n)) return incrBy(c, negate ? -n : n, null);
  const big = parseInt64(c.req.u8, c.req.off[i]!, c.req.len[i]!);
  if (big === null) return c.out.error(E.NOT_INTEGER);
  if (negate && big === INT64_MIN) return c.out.error('ERR decrement would overflow');
  incrBy(c, 0, negate ? -big : big);
}

/** Redis incrbyfloatCommand: type check, parse the value, then the increment (string2ld). */
function incrbyfloat(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  const { ks, req } = c;
  let cur: LongDouble | null = ZERO;
  if (h !== 0) {
    const o = ks.valueOffset(h);
    cur = parseLongDouble(latin1(ks.arena.u8(h), o, ks.valueLength(h)));
  }
  const incr = cur === null ? null : parseLongDouble(latin1(req.u8, req.off[1]!, req.len[1]!));
  if (cur === null || incr === null) return c.out.error(E.NOT_FLOAT);
  const sum = addLongDouble(cur, incr);
  if (sum === null) return c.out.error(E.NAN_OR_INF);
  const bytes = Buffer.from(formatHuman(sum));
  const nh = storeBytes(c, h, 0, bytes, -1);
  ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = ENC_NO_INT;
  // Logged as the resulting value (Redis: SET key value KEEPTTL), not as a float addition.
  c.propagate(['set', req.copy(0), bytes, 'KEEPTTL']);
  c.modified(nh, NOTIFY_STRING, 'incrbyfloat');
  c.out.bulk(bytes, 0, bytes.length);
}

const ZERO: LongDouble = { neg: false, mant: 0n, exp: 0 };

function latin1(u8: Uint8Array, off: number, len: number): string {
  return Buffer.from(u8.buffer, u8.byteOffset + off, len).toString('latin1');
}

export const counterCommands: CommandDef[] = [
  { name: 'incr', route: 'key', shard: (c) => incrBy(c, 1, null) },
  { name: 'decr', route: 'key', shard: (c) => incrBy(c, -1, null) },
  { name: 'incrby', route: 'key', shard: (c) => incrArg(c, 1, false) },
  { name: 'decrby', route: 'key', shard: (c) => incrArg(c, 1, true) },
  { name: 'incrbyfloat', route: 'key', shard: incrbyfloat },
];
