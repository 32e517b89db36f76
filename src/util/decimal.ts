/**
 * Exact decimal arithmetic for INCRBYFLOAT. Redis adds in 80-bit long double and prints with
 * "%.17Lf" minus trailing zeros, so 0.1 + 0.2 is "0.3" there while JS doubles give
 * 0.30000000000000004. Adding the decimal strings exactly and rounding to 17 fractional digits
 * reproduces Redis's output for every value a long double holds exactly to that precision.
 */

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export interface Decimal {
  /** value = mant × 10^-scale */
  mant: bigint;
  scale: number;
}

/** Parses a Redis float argument; null when it is not a plain decimal (inf, nan, hex, junk). */
export function parseDecimal(s: string): Decimal | null {
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int.length === 0 && frac.length === 0) return null;
  const exp = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exp) > 400) return null;
  let mant = BigInt((int || '0') + frac);
  let scale = frac.length - exp;
  if (scale < 0) {
    mant *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { mant: m[1] === '-' ? -mant : mant, scale };
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { mant: a.mant * 10n ** BigInt(scale - a.scale) + b.mant * 10n ** BigInt(scale - b.scale), scale };
}

/** "%.17Lf" then trailing zeros (and a bare '.') removed; "-0" becomes "0". */
export function formatHuman(d: Decimal): string {
  let { mant, scale } = d;
  if (scale > 17) {
    const div = 10n ** BigInt(scale - 17);
    const neg = mant < 0n;
    let q = (neg ? -mant : mant) / div;
    const r = (neg ? -mant : mant) % div;
    if (r * 2n >= div) q += 1n;
    mant = neg ? -q : q;
    scale = 17;
  }
  const neg = mant < 0n;
  let digits = (neg ? -mant : mant).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    let s = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
    s = s.replace(/0+$/, '').replace(/\.$/, '');
    digits = s;
  }
  if (digits === '0') return '0';
  return neg ? '-' + digits : digits;
}

export function toNumber(d: Decimal): number {
  return Number(d.mant) / 10 ** d.scale;
}
