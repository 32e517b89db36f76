/**
 * Integer parsing and formatting on raw bytes, with Redis's exact rules (util.c string2ll /
 * ll2string / d2string), so argument bytes never have to become JS strings first.
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// "9223372036854775807": 19 digits; INT64_MIN's magnitude ends in 8 instead of 7.
const INT64_MAX_DIGITS = [57, 50, 50, 51, 51, 55, 50, 48, 51, 54, 56, 53, 52, 55, 55, 53, 56, 48, 55];

/**
 * Validates like string2ll: optional '-', no '+', no leading zeros (so "-0" and "01" fail), no
 * spaces, at most 20 bytes, within signed 64-bit. Returns the value as a double (exact only within
 * ±2^53-1, but the sign and magnitude class are always right) or NaN when invalid.
 */
export function scanInt64(b: Uint8Array, off: number, len: number): number {
  // string2ll refuses slen >= LONG_STR_SIZE (21) up front.
  if (len <= 0 || len >= 21) return NaN;
  const end = off + len;
  let p = off;
  let c = b[p]!;
  if (len === 1 && c === 48) return 0;
  let neg = false;
  if (c === 45) {
    neg = true;
    if (++p === end) return NaN;
    c = b[p]!;
  }
  if (c < 49 || c > 57) return NaN;
  const first = p;
  let v = c - 48;
  while (++p < end) {
    c = b[p]!;
    if (c < 48 || c > 57) return NaN;
    v = v * 10 + (c - 48);
  }
  const nd = end - first;
  if (nd > 19) return NaN;
  if (nd === 19) {
    // Doubles cannot tell 9223372036854775807 from ...808, so compare the digits themselves.
    for (let i = 0; i < 19; i++) {
      const d = b[first + i]!;
      const lim = i === 18 && neg ? 56 : INT64_MAX_DIGITS[i]!;
      if (d < lim) break;
      if (d > lim) return NaN;
    }
  }
  return neg ? -v : v;
}

/** A Redis integer that also fits a JS safe integer, else NaN. */
export function parseSafeInt(b: Uint8Array, off: number, len: number): number {
  const v = scanInt64(b, off, len);
  return v > MAX_SAFE || v < -MAX_SAFE ? NaN : v;
}

/** A Redis integer over the full signed 64-bit range, else null. */
export function parseInt64(b: Uint8Array, off: number, len: number): bigint | null {
  const v = scanInt64(b, off, len);
  if (v !== v) return null;
  if (v <= MAX_SAFE && v >= -MAX_SAFE) return BigInt(v);
  let s = '';
  for (let i = off; i < off + len; i++) s += String.fromCharCode(b[i]!);
  return BigInt(s);
}

/**
 * Writes a safe integer in decimal at `pos` and returns the position after it. The caller
 * guarantees room (at most 17 bytes). -0 is written as "0", like ll2string.
 */
export function writeIntAscii(t: Uint8Array, pos: number, n: number): number {
  if (n < 0) {
    t[pos++] = 45;
    n = -n;
  }
  if (n < 10) {
    t[pos++] = 48 + n;
    return pos;
  }
  let digits = 2;
  for (let m = n; m >= 100; digits++) m = m <= 0x7fffffff ? (m / 10) | 0 : Math.floor(m / 10);
  let i = pos + digits - 1;
  if (n <= 0x7fffffff) {
    while (n >= 10) {
      const q = (n / 10) | 0;
      t[i--] = 48 + n - q * 10;
      n = q;
    }
  } else {
    while (n >= 10) {
      const r = n % 10;
      t[i--] = 48 + r;
      n = (n - r) / 10;
    }
  }
  t[i] = 48 + n;
  return pos + digits;
}

/** Number of bytes writeIntAscii produces for a safe integer. */
export function intAsciiLength(n: number): number {
  let len = n < 0 ? 2 : 1;
  if (n < 0) n = -n;
  while (n >= 10) {
    n = n <= 0x7fffffff ? (n / 10) | 0 : Math.floor(n / 10);
    len++;
  }
  return len;
}

const TWO_62 = 4611686018427387904; // (double)(LLONG_MAX/2): d2string's integer fast-path bound

/**
 * Redis 7.2+ d2string: integral values up to 2^62 print as integers, others as the shortest
 * round-tripping digits laid out by fpconv_dtoa's emit_digits (which picks exponent form by its
 * own rules, e.g. 1e+21, 1e-7, 1.2345678901234567e+4). nan/inf/-inf/-0 are spelled out.
 */
export function formatDouble(d: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return 1 / d < 0 ? '-0' : '0';
  if (Number.isInteger(d) && d >= -TWO_62 && d <= TWO_62) {
    return d <= MAX_SAFE && d >= -MAX_SAFE ? String(d) : BigInt(d).toString();
  }
  const sign = d < 0 ? '-' : '';
  const plain = String(d < 0 ? -d : d);
  const dot = plain.indexOf('.');
  if (dot > 0 && !plain.includes('e')) {
    // JS already chose plain notation with the same shortest digits; emit_digits agrees unless
    // there are 7+ decimals and the leading digit is 10^4 or more (or 10^-5 or less) away.
    const decimals = plain.length - dot - 1;
    let x = dot - 1;
    if (dot === 1 && plain.charCodeAt(0) === 48) {
      x = -1;
      while (plain.charCodeAt(1 - x) === 48) x--;
    }
    if (decimals < 7 || (x < 4 && x > -4)) return sign + plain;
  }
  // toExponential() without an argument yields the shortest digits that round-trip.
  const e = Math.abs(d).toExponential();
  const ePos = e.indexOf('e');
  const digits = ePos > 1 ? e[0] + e.slice(2, ePos) : e.slice(0, ePos);
  const x = Number(e.slice(ePos + 1));
  const nd = digits.length;
  const k = x - (nd - 1);
  const ax = x < 0 ? -x : x;
  if (k >= 0 && ax < nd + 7) return sign + digits + '0'.repeat(k);
  if (k < 0 && (k > -7 || ax < 4)) {
    const offset = nd + k;
    if (offset <= 0) return sign + '0.' + '0'.repeat(-offset) + digits;
    return sign + digits.slice(0, offset) + '.' + digits.slice(offset);
  }
  return sign + digits[0] + (nd > 1 ? '.' + digits.slice(1) : '') + 'e' + (x < 0 ? '-' : '+') + ax;
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/**
 * Exactly printf("%.17g") as glibc does it (round-half-even on the exact binary value), which
 * is what Redis 7.0's addReplyDouble sends: 0.1 -> "0.10000000000000001", 1e21 -> "1e+21".
 * Kept for callers that need 7.0-identical output; RespWriter uses formatDouble.
 */
export function formatDouble17g(d: number): string {
  if (d !== d) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return 1 / d < 0 ? '-0' : '0';
  f64[0] = d;
  const bits = u64[0]!;
  const sign = bits >> 63n ? '-' : '';
  const be = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e2 = be - 1075;
  if (be === 0) e2 = -1074;
  else mant |= 1n << 52n;
  // Exact decimal expansion: all digits of mant*2^e2 and the power of ten of the last one.
  let all: string;
  let lastExp: number;
  if (e2 >= 0) {
    all = (mant << BigInt(e2)).toString();
    lastExp = 0;
  } else {
    all = (mant * 5n ** BigInt(-e2)).toString();
    lastExp = e2;
  }
  let x = lastExp + all.length - 1;
  let sig = all.slice(0, 17);
  if (all.length > 17) {
    const next = all.charCodeAt(17) - 48;
    const rest = /[1-9]/.test(all.slice(18));
    const odd = (sig.charCodeAt(16) - 48) & 1;
    if (next > 5 || (next === 5 && (rest || odd))) {
      const up = (BigInt(sig) + 1n).toString();
      if (up.length > 17) x++;
      sig = up.slice(0, 17);
    }
  }
  sig = sig.padEnd(17, '0');
  if (x < -4 || x >= 17) {
    const frac = sig.slice(1).replace(/0+$/, '');
    const ex = x < 0 ? -x : x;
    return sign + sig[0] + (frac ? '.' + frac : '') + 'e' + (x < 0 ? '-' : '+') + (ex < 10 ? '0' : '') + ex;
  }
  let s = x < 0 ? '0.' + '0'.repeat(-x - 1) + sig : sig.slice(0, x + 1) + '.' + sig.slice(x + 1);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return sign + s;
}
