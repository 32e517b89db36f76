/**
 * Helpers shared by the bitmap commands (bitmaps.ts) and BITFIELD (bitfield.ts): bit offset
 * arguments and growing a string so a bit exists, with Redis's rules (bitops.c
 * getBitOffsetFromArgument, lookupStringForBitCommand).
 */
import { parseInt64, scanInt64 } from '../protocol/numbers.ts';
import { E } from '../protocol/redis-errors.ts';
import { ENC_FORCED_RAW, ENCODING, TYPE_STRING } from '../store/record.ts';
import type { ShardContext } from './types.ts';

/**
 * Bit offset argument i: a non-negative integer whose byte is below proto-max-bulk-len. With
 * `bits` > 0 the form "#n" means n × bits (BITFIELD), multiplied with int64 wrap-around like the
 * C code. Returns the offset, or -1 after replying the error.
 */
export function bitOffsetArg(c: ShardContext, i: number, bits: number): number {
  const req = c.req;
  let off = req.off[i]!;
  let len = req.len[i]!;
  const hash = bits > 0 && len > 0 && req.u8[off] === 35; // '#'
  if (hash) {
    off++;
    len--;
  }
  let v = scanInt64(req.u8, off, len);
  if (v !== v) {
    c.out.error(E.BIT_OFFSET);
    return -1;
  }
  if (hash) {
    v *= bits;
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) {
      v = Number(BigInt.asIntN(64, parseInt64(req.u8, off, len)! * BigInt(bits)));
    }
  }
  if (v < 0 || Math.floor(v / 8) >= c.maxBulkLen) {
    c.out.error(E.BIT_OFFSET);
    return -1;
  }
  return v;
}

/** Bytes added by the last growForBits() call (0 when the string was long enough). */
export const grown = { bytes: 0 };

/**
 * lookupStringForBitCommand: key argument ki as a string at least long enough to hold bit
 * `maxbit`, created or zero-padded as needed. Returns the (possibly new) handle, or -1 after
 * replying WRONGTYPE. The value is marked raw as Redis unshares it before writing.
 */
export function growForBits(c: ShardContext, ki: number, maxbit: number): number {
  const { ks, req } = c;
  let h = ks.lookup(req.db, req.u8, req.off[ki]!, req.len[ki]!);
  if (h !== 0 && ks.type(h) !== TYPE_STRING) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  const need = Math.floor(maxbit / 8) + 1;
  const cur = h === 0 ? 0 : ks.valueLength(h);
  if (h === 0 || need > cur) {
    h = ks.writeString(req.db, h, req.u8, req.off[ki]!, req.len[ki]!, need, h === 0 ? 0 : -1, cur);
    const vo = ks.valueOffset(h);
    ks.arena.u8(h).fill(0, vo + cur, vo + need);
    grown.bytes = need - cur;
  } else {
    grown.bytes = 0;
    ks.touch(h);
  }
  ks.arena.u8(h)[ks.arena.base(h) + ENCODING] = ENC_FORCED_RAW;
  return h;
}
