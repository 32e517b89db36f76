/**
 * Pieces of SORT that do not touch the keyspace: the C library's strtod as SORT uses it to read
 * scores, and the two string orders it compares with (memcmp-style and strcoll in the C.UTF-8
 * locale, where glibc collates by code point, i.e. like strcmp).
 */

/** isspace() in the C locale. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const hexVal = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

function matchWord(b: Uint8Array, i: number, end: number, word: string): boolean {
  if (end - i < word.length) return false;
  for (let k = 0; k < word.length; k++) if ((b[i + k]! | 32) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * The score SORT reads from a value: `strtod(s, &eptr)` accepted only when it consumed the
 * whole C string (up to its first NUL) without ERANGE and the result is not NaN. Returns NaN
 * when Redis reports "One or more scores can't be converted into double". Like strtod, an
 * empty string reads as 0.
 */
export function sortScore(b: Uint8Array): number {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  let i = 0;
  while (i < end && isSpace(b[i]!)) i++;
  let neg = false;
  if (i < end && (b[i] === 43 || b[i] === 45)) neg = b[i++] === 45;
  let value: number;
  if (matchWord(b, i, end, 'inf')) {
    i += matchWord(b, i, end, 'infinity') ? 8 : 3;
    value = Infinity;
  } else if (matchWord(b, i, end, 'nan')) {
    return NaN;
  } else if (
    b[i] === 48 &&
    (b[i + 1]! | 32) === 120 &&
    i + 2 < end &&
    (hexVal(b[i + 2]!) >= 0 || b[i + 2] === 46)
  ) {
    const r = hexFloat(b, i + 2, end);
    if (r === null) return NaN;
    i = hexEnd;
    value = r;
  } else {
    const s = i;
    let digits = 0;
    let nonzero = false;
    while (i < end && isDigit(b[i]!)) {
      if (b[i] !== 48) nonzero = true;
      i++;
      digits++;
    }
    if (i < end && b[i] === 46) {
      i++;
      while (i < end && isDigit(b[i]!)) {
        if (b[i] !== 48) nonzero = true;
        i++;
        digits++;
      }
    }
    // No digits: no conversion, eptr is the start of the string.
    if (digits === 0) return end === 0 ? 0 : NaN;
    if (i < end && (b[i]! | 32) === 101) {
      let k = i + 1;
      if (k < end && (b[k] === 43 || b[k] === 45)) k++;
      if (k < end && isDigit(b[k]!)) {
        while (k < end && isDigit(b[k]!)) k++;
        i = k;
      }
    }
    value = Number(Buffer.from(b.buffer, b.byteOffset + s, i - s).toString('latin1'));
    // ERANGE: overflow to infinity, or underflow to zero or a subnormal.
    if (!Number.isFinite(value)) return NaN;
    if (nonzero && Math.abs(value) < 2.2250738585072014e-308) return NaN;
  }
  if (i !== end) return NaN;
  return neg ? -value : value;
}

let hexEnd = 0;

/** A hexadecimal float body (after "0x"): digits, optional '.', optional p±exponent. */
function hexFloat(b: Uint8Array, i: number, end: number): number | null {
  let mant = 0n;
  let exp = 0;
  let digits = 0;
  while (i < end && hexVal(b[i]!) >= 0) {
    mant = mant * 16n + BigInt(hexVal(b[i++]!));
    digits++;
  }
  if (i < end && b[i] === 46) {
    i++;
    while (i < end && hexVal(b[i]!) >= 0) {
      mant = mant * 16n + BigInt(hexVal(b[i++]!));
      exp -= 4;
      digits++;
    }
  }
  if (digits === 0) return null;
  if (i < end && (b[i]! | 32) === 112) {
    let k = i + 1;
    let eneg = false;
    if (k < end && (b[k] === 43 || b[k] === 45)) eneg = b[k++] === 45;
    if (k < end && isDigit(b[k]!)) {
      let e = 0;
      while (k < end && isDigit(b[k]!)) e = Math.min(e * 10 + (b[k++]! - 48), 1e6);
      exp += eneg ? -e : e;
      i = k;
    }
  }
  hexEnd = i;
  let v = Number(mant);
  while (exp > 0 && Number.isFinite(v)) {
    const s = Math.min(exp, 1000);
    v *= 2 ** s;
    exp -= s;
  }
  while (exp < 0 && v !== 0) {
    const s = Math.min(-exp, 1000);
    v /= 2 ** s;
    exp += s;
  }
  if (!Number.isFinite(v) || (mant !== 0n && v === 0)) return null;
  return v;
}

/** compareStringObjects: bytes, then length. */
export function binaryCompare(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** strcoll() under C.UTF-8 (code point order = byte order), on C strings: stops at a NUL. */
export function collate(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; ; i++) {
    const x = i < a.length ? a[i]! : 0;
    const y = i < b.length ? b[i]! : 0;
    if (x !== y) return x - y;
    if (x === 0) return 0;
  }
}
