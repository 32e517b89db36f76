/**
 * Fixed-width decimal digits written into / compared against Buffer bytes in place: keys,
 * versions and scores are patched into pre-encoded commands without creating strings.
 */

/** Write n (non-negative integer) as exactly `width` digits, zero-padded, truncating high digits. */
export function writeDigits(buf: Uint8Array, off: number, width: number, n: number): void {
  for (let i = off + width - 1; i >= off; i--) {
    const q = Math.floor(n / 10);
    buf[i] = 48 + (n - q * 10);
    n = q;
  }
}

/** Parse `width` ASCII digits; -1 when any byte is not a digit. */
export function readDigits(buf: Uint8Array, off: number, width: number): number {
  let n = 0;
  for (let i = off; i < off + width; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Parse a RESP integer line body (optional '-', digits) in [from, to). NaN if malformed. */
export function parseIntAt(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  if (i >= to) return NaN;
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
