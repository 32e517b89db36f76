import { E_LIST } from '../protocol/redis-errors.ts';
import { parseLongDouble } from '../util/decimal.ts';

const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;

/**
 * The timeout argument of a blocking command in seconds, as Redis 7.0.15's
 * getTimeoutFromObjectOrReply(UNIT_SECONDS) reads it: strtold over the whole argument (so
 * "0x10", "1e3", ".5", "inf" parse; " 1" and "nan" do not), then
 * `(long long) ceill(t * 1000.0)` in x87 long double (read from the redis-server binary: the
 * ceil keeps 0.0001 s from meaning "forever"). The cast turns anything beyond the long long
 * range (inf, 1e16 s, 2^63 - 0.5 ms rounded up) into LLONG_MIN, which is why Redis answers
 * "timeout is negative" for them, while -0.001 (just above -1 ms in long double) ceils to 0.
 * Redis 7.0 has no "timeout is out of range" check (7.2 added it).
 *
 * Returns the relative timeout in ms (0 = block forever) or the error reply. Plain digit strings
 * take a fast path; everything else goes through the exact long double emulation.
 */
export function blockTimeoutMs(u8: Uint8Array, off: number, len: number): number | string {
  if (len > 0 && len <= 12) {
    let v = 0;
    let i = 0;
    for (; i < len; i++) {
      const d = u8[off + i]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === len) return v * 1000;
  }
  const ld = parseLongDouble(Buffer.from(u8.buffer, u8.byteOffset + off, len).toString('latin1'));
  if (ld === null) return E_LIST.TIMEOUT_NOT_FLOAT;
  if (ld.exp === Infinity) return E_LIST.TIMEOUT_NEGATIVE;
  if (ld.mant === 0n) return 0;
  // t * 1000.0 rounded to a 64-bit significand (ties to even).
  let m = ld.mant * 1000n;
  let e = ld.exp;
  const extra = m.toString(2).length - 64;
  if (extra > 0) {
    const sh = BigInt(extra);
    let q = m >> sh;
    const r = m - (q << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
    if (q === TWO64) {
      q = TWO63;
      e++;
    }
    m = q;
    e += extra;
  }
  // ceill: a positive fraction rounds up, a negative one towards zero.
  let int = e >= 0 ? (e > 64 ? TWO63 : m << BigInt(e)) : m >> BigInt(-e);
  if (ld.neg) return int > 0n ? E_LIST.TIMEOUT_NEGATIVE : 0;
  if (e < 0 && int << BigInt(-e) !== m) int++;
  return int >= TWO63 ? E_LIST.TIMEOUT_NEGATIVE : Number(int);
}
