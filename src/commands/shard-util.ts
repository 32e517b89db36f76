import type { RequestView } from '../router/frames.ts';
import { parseInt64, parseSafeInt } from '../protocol/numbers.ts';
import { E, invalidExpire } from '../protocol/redis-errors.ts';
import type { ShardContext } from './types.ts';
import { TYPE_STRING } from '../store/record.ts';

/** Argument i as an integer, NaN when it is not a valid Redis integer. */
export function argInt(req: RequestView, i: number): number {
  return parseSafeInt(req.u8, req.off[i]!, req.len[i]!);
}

/**
 * Argument i as a signed 64-bit integer (Redis getLongLongFromObject): a number when it is a
 * safe integer, a bigint beyond ±2^53, null when it is not an integer in range.
 */
export function argInt64(req: RequestView, i: number): number | bigint | null {
  const v = parseSafeInt(req.u8, req.off[i]!, req.len[i]!);
  return Number.isNaN(v) ? parseInt64(req.u8, req.off[i]!, req.len[i]!) : v;
}

const LLONG_MAX = 9223372036854775807;

/**
 * Converts an expire argument to absolute ms with Redis's checks (getExpireMillisecondsOrReply):
 * `unitMs` 1000 for seconds, `absolute` for EXAT/PXAT. Values beyond ±2^53 are kept as
 * approximate doubles: only the overflow checks care about them. Writes the error reply and
 * returns -1 on failure.
 */
export function expireArg(
  c: ShardContext,
  i: number,
  unitMs: number,
  absolute: boolean,
  cmd: string,
): number {
  const v64 = argInt64(c.req, i);
  if (v64 === null) {
    c.out.error(E.NOT_INTEGER);
    return -1;
  }
  const v = Number(v64);
  if (v <= 0 || (unitMs === 1000 && v > LLONG_MAX / 1000)) {
    c.out.error(invalidExpire(cmd));
    return -1;
  }
  let ms = v * unitMs;
  if (!absolute) {
    if (ms > LLONG_MAX - c.ks.now) {
      c.out.error(invalidExpire(cmd));
      return -1;
    }
    ms += c.ks.now;
  }
  return ms;
}

/**
 * Looks up a key that must be a string. Returns the handle, 0 when absent, -1 after writing
 * WRONGTYPE.
 */
export function lookupString(c: ShardContext, i: number): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (h !== 0 && ks.type(h) !== TYPE_STRING) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  return h;
}

/** Store argument `vi` as the string value of key argument `ki` (after a lookup of ki). */
export function storeArg(c: ShardContext, h: number, ki: number, vi: number, expireAt: number): number {
  const { ks, req } = c;
  const vlen = req.len[vi]!;
  h = ks.writeString(req.db, h, req.u8, req.off[ki]!, req.len[ki]!, vlen, expireAt);
  const dst = ks.arena.u8(h);
  const d = ks.valueOffset(h);
  const src = req.u8;
  const s = req.off[vi]!;
  if (vlen <= 64) for (let k = 0; k < vlen; k++) dst[d + k] = src[s + k]!;
  else dst.set(src.subarray(s, s + vlen), d);
  return h;
}

/** Store bytes from a JS buffer as the value of key argument ki (after a lookup of ki). */
export function storeBytes(
  c: ShardContext,
  h: number,
  ki: number,
  bytes: Uint8Array,
  expireAt: number,
): number {
  const { ks, req } = c;
  h = ks.writeString(req.db, h, req.u8, req.off[ki]!, req.len[ki]!, bytes.length, expireAt);
  ks.arena.u8(h).set(bytes, ks.valueOffset(h));
  return h;
}

/** Write the string value of h as a bulk reply. */
export function replyValue(c: ShardContext, h: number): void {
  const ks = c.ks;
  c.out.bulk(ks.arena.u8(h), ks.valueOffset(h), ks.valueLength(h));
}

/** Copy of the value bytes of h (for read-modify-write commands). */
export function valueCopy(c: ShardContext, h: number): Buffer {
  const ks = c.ks;
  const o = ks.valueOffset(h);
  return Buffer.from(ks.arena.u8(h).subarray(o, o + ks.valueLength(h)));
}
