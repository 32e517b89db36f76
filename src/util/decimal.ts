/**
 * INCRBYFLOAT arithmetic, bit-exact with Redis on x86-64: Redis parses both operands with
 * strtold (80-bit x87 long double: 64-bit significand, correctly rounded), adds them in long
 * double and prints the sum with "%.17Lf" minus trailing zeros. So 0.1 + 0.2 is "0.3" there,
 * but 1e10 + 0.1 is "10000000000.09999999962747097". Exact decimal arithmetic matches the
 * first and not the second; this module emulates the long double itself with BigInt:
 * value = (-1)^neg × mant × 2^exp, mant < 2^64, rounded to nearest, ties to even.
 */

export interface LongDouble {
  neg: boolean;
  /** 0n for zero; otherwise < 2^64 (≥ 2^63 unless subnormal). */
  mant: bigint;
  /** Exponent of the significand's least significant bit; Infinity for ±inf. */
  exp: number;
}

const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;
/** LSB exponent of subnormals and of the smallest normals (2^-16382 = 2^63 × 2^-16445). */
const MIN_EXP = -16445;
/** LSB exponent of the largest finite values (just under 2^16384). */
const MAX_EXP = 16320;
/** Redis string2ld copies into a MAX_LONG_DOUBLE_CHARS (5 KiB) buffer: longer is invalid. */
const MAX_CHARS = 5 * 1024;

const DEC = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF = /^([+-]?)(?:inf|infinity)$/i;

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/**
 * Rounds num/den × 2^e2 (num ≥ 0, den > 0) to a long double. Returns null when a non-zero value
 * underflows to zero (strtold's ERANGE case that Redis rejects); overflow gives ±inf.
 */
function round(neg: boolean, num: bigint, den: bigint, e2: number): LongDouble | null {
  if (num === 0n) return { neg, mant: 0n, exp: 0 };
  let e = Math.max(MIN_EXP, e2 + bitLength(num) - bitLength(den) - 64);
  for (;;) {
    const sh = e2 - e;
    const n = sh >= 0 ? num << BigInt(sh) : num;
    const d = sh >= 0 ? den : den << BigInt(-sh);
    let q = n / d;
    if (q >= TWO64) {
      e++;
      continue;
    }
    const r2 = (n - q * d) * 2n;
    if (r2 > d || (r2 === d && (q & 1n) === 1n)) q++;
    if (q === TWO64) {
      q = TWO63;
      e++;
    }
    if (e > MAX_EXP) return { neg, mant: 0n, exp: Infinity };
    if (q === 0n) return null;
    return { neg, mant: q, exp: e };
  }
}

/**
 * Redis string2ld: strtold over the whole string, rejecting leading space, trailing bytes,
 * NaN, overflow and underflow to zero. "inf"/"infinity", hex floats ("0x1p3") are accepted.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  const inf = INF.exec(s);
  if (inf) return { neg: inf[1] === '-', mant: 0n, exp: Infinity };
  let m = DEC.exec(s);
  if (m) {
    const neg = m[1] === '-';
    const frac = m[3] ?? m[4] ?? '';
    const digits = ((m[2] ?? '') + frac).replace(/^0+/, '');
    if (digits.length === 0) return { neg, mant: 0n, exp: 0 };
    const exp10 = Number(m[5] ?? 0) - frac.length;
    const magnitude = digits.length + exp10; // value < 10^magnitude
    if (magnitude > 4934) return null; // > LDBL_MAX: ERANGE
    if (magnitude < -4952) return null; // < smallest subnormal / 2: rounds to zero
    const mant = BigInt(digits);
    const r =
      exp10 >= 0
        ? round(neg, mant * 10n ** BigInt(exp10), 1n, 0)
        : round(neg, mant, 10n ** BigInt(-exp10), 0);
    return r !== null && r.exp === Infinity ? null : r;
  }
  m = HEX.exec(s);
  if (m) {
    const neg = m[1] === '-';
    const frac = m[3] ?? m[4] ?? '';
    const digits = ((m[2] ?? '') + frac).replace(/^0+/, '');
    if (digits.length === 0) return { neg, mant: 0n, exp: 0 };
    const exp2 = Number(m[5] ?? 0) - 4 * frac.length;
    const magnitude = digits.length * 4 + exp2;
    if (magnitude > 16400) return null;
    if (magnitude < -16500) return null;
    const r = round(neg, BigInt('0x' + digits), 1n, exp2);
    return r !== null && r.exp === Infinity ? null : r;
  }
  return null;
}

/** a + b in long double; null when the sum is NaN or infinite (Redis refuses to store it). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.exp === Infinity || b.exp === Infinity) return null;
  if (a.mant === 0n) return b.mant === 0n ? { neg: a.neg && b.neg, mant: 0n, exp: 0 } : b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const sa = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const sb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = sa + sb;
  if (sum === 0n) return { neg: false, mant: 0n, exp: 0 };
  const r = round(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
  if (r === null || r.exp === Infinity) return null;
  return r;
}

/** "%.17Lf" with trailing zeros (and a bare '.') removed; "-0" becomes "0" (Redis ld2string). */
export function formatHuman(x: LongDouble): string {
  let s: string;
  if (x.exp >= 0) s = (x.mant << BigInt(x.exp)).toString();
  else {
    const sh = BigInt(-x.exp);
    const n = x.mant * 10n ** 17n;
    let q = n >> sh;
    const r = n - (q << sh);
    const half = 1n << (sh - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
    const digits = q.toString().padStart(18, '0');
    const frac = digits.slice(-17).replace(/0+$/, '');
    const int = digits.slice(0, -17);
    s = frac.length > 0 ? `${int}.${frac}` : int;
  }
  if (s === '0') return '0';
  return x.neg ? '-' + s : s;
}
