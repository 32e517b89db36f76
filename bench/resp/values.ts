/**
 * Self-describing values, so the harness can check every reply without remembering what it
 * wrote: a value for key index k at version v is
 *
 *   <k: 12 digits> ':' <v mod 10^6: 6 digits> ':' <length: 8 digits> ':' <filler>
 *
 * where the filler is a periodic pattern starting at an offset derived from (k, v). A reply
 * that holds another key's value, a truncated or spliced value, or stale bytes from a freed
 * buffer fails the check; concurrent writers are fine because any version is acceptable, and a
 * value written by an earlier workload with another size is still recognised as correct.
 */
import { readDigits, writeDigits } from './digits.ts';

export const KEY_DIGITS = 12;
const VERSION_DIGITS = 6;
const LENGTH_DIGITS = 8;
const V_AT = KEY_DIGITS + 1;
const L_AT = V_AT + VERSION_DIGITS + 1;
/** 29 bytes; the schema's minimum valueSize (32) leaves room for a little filler. */
export const HEADER = L_AT + LENGTH_DIGITS + 1;
const PERIOD = 61; // prime, so neighbouring (k, v) pairs start the filler at unrelated offsets
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+=!@#$%^&*()[]{}<>?';

export class ValueCodec {
  /** PATTERN repeated to cover PERIOD + the longest filler seen; grows on demand (rare). */
  private pattern: Buffer;

  constructor(size: number) {
    this.pattern = makePattern(size);
  }

  /** Write a full value of `size` bytes (size ≥ HEADER) for key index k at version v. */
  write(buf: Buffer, off: number, size: number, k: number, v: number): void {
    writeDigits(buf, off, KEY_DIGITS, k);
    buf[off + V_AT - 1] = 58;
    writeDigits(buf, off + V_AT, VERSION_DIGITS, v);
    buf[off + L_AT - 1] = 58;
    writeDigits(buf, off + L_AT, LENGTH_DIGITS, size);
    buf[off + HEADER - 1] = 58;
    const start = fillerStart(k, v % 1000000);
    this.pattern.copy(buf, off + HEADER, start, start + size - HEADER);
  }

  /** True when buf[off, off+len) is a value this codec could have written for key index k. */
  check(buf: Buffer, off: number, len: number, k: number): boolean {
    if (len < HEADER) return false;
    if (readDigits(buf, off, KEY_DIGITS) !== k % 10 ** KEY_DIGITS) return false;
    if (buf[off + V_AT - 1] !== 58 || buf[off + L_AT - 1] !== 58 || buf[off + HEADER - 1] !== 58)
      return false;
    if (readDigits(buf, off + L_AT, LENGTH_DIGITS) !== len) return false;
    const v = readDigits(buf, off + V_AT, VERSION_DIGITS);
    if (v < 0) return false;
    const fill = len - HEADER;
    if (fill + PERIOD > this.pattern.length) this.pattern = makePattern(fill + HEADER);
    const start = fillerStart(k, v);
    return buf.compare(this.pattern, start, start + fill, off + HEADER, off + len) === 0;
  }
}

function fillerStart(k: number, v: number): number {
  return (((k % PERIOD) * 7 + v) % PERIOD) | 0;
}

function makePattern(size: number): Buffer {
  const b = Buffer.alloc(PERIOD + Math.max(0, size - HEADER));
  for (let i = 0; i < b.length; i++) b[i] = ALPHABET.charCodeAt(i % PERIOD);
  return b;
}
