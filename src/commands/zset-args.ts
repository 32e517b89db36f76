/**
 * Argument parsing for the sorted-set commands with Redis 7.0's exact rules: C strtod (what
 * zslParseRange uses: leading spaces, hex floats, "inf", an empty string reads as 0), string2d
 * (ZADD scores, WEIGHTS: whole argument, no leading space, no overflow) and lex range items.
 */
import type { RequestView } from '../router/frames.ts';
import type { LexRange, ScoreRange } from '../store/types/zset-range.ts';
import { latin1 } from '../store/types/zset-listpack.ts';
import { argInt64 } from './shard-util.ts';

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function matchWord(u8: Uint8Array, p: number, end: number, w: string): boolean {
  if (end - p < w.length) return false;
  for (let k = 0; k < w.length; k++) if ((u8[p + k]! | 32) !== w.charCodeAt(k)) return false;
  return true;
}

/** Bytes consumed by the last strtod() call (eptr - s), and whether it over/underflowed. */
export const strtodState = { end: 0, erange: false };

/**
 * C strtod on u8[off, off+len) as if NUL-terminated there (an embedded NUL byte stops it too).
 * Sets strtodState; returns 0 with end = 0 when nothing parses.
 */
export function strtod(u8: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let p = off;
  strtodState.end = 0;
  strtodState.erange = false;
  while (p < end && isSpace(u8[p]!)) p++;
  let neg = false;
  if (p < end && (u8[p] === 43 || u8[p] === 45)) {
    neg = u8[p] === 45;
    p++;
  }
  if (matchWord(u8, p, end, 'inf')) {
    p += matchWord(u8, p, end, 'infinity') ? 8 : 3;
    strtodState.end = p - off;
    return neg ? -Infinity : Infinity;
  }
  if (matchWord(u8, p, end, 'nan')) {
    p += 3;
    if (p < end && u8[p] === 40) {
      let q = p + 1;
      while (q < end && (isDigit(u8[q]!) || u8[q] === 95 || ((u8[q]! | 32) >= 97 && (u8[q]! | 32) <= 122)))
        q++;
      if (q < end && u8[q] === 41) p = q + 1;
    }
    strtodState.end = p - off;
    return NaN;
  }
  if (p + 1 < end && u8[p] === 48 && (u8[p + 1]! | 32) === 120) {
    const r = hexFloat(u8, p + 2, end, neg);
    if (r !== null) {
      strtodState.end = r.end - off;
      return r.v;
    }
  }
  const start = p;
  let digits = 0;
  let nonzero = false;
  while (p < end && isDigit(u8[p]!)) {
    if (u8[p] !== 48) nonzero = true;
    p++;
    digits++;
  }
  if (p < end && u8[p] === 46) {
    p++;
    while (p < end && isDigit(u8[p]!)) {
      if (u8[p] !== 48) nonzero = true;
      p++;
      digits++;
    }
  }
  if (digits === 0) return 0;
  if (p < end && (u8[p]! | 32) === 101) {
    let q = p + 1;
    if (q < end && (u8[q] === 43 || u8[q] === 45)) q++;
    if (q < end && isDigit(u8[q]!)) {
      while (q < end && isDigit(u8[q]!)) q++;
      p = q;
    }
  }
  strtodState.end = p - off;
  const v = Number(latin1(u8, start, p - start));
  if (v === Infinity || (v === 0 && nonzero)) strtodState.erange = true;
  return neg ? -v : v;
}

function hexFloat(u8: Uint8Array, p: number, end: number, neg: boolean): { v: number; end: number } | null {
  let mant = 0n;
  let digits = 0;
  let exp = 0;
  while (p < end && hexVal(u8[p]!) >= 0) {
    mant = mant * 16n + BigInt(hexVal(u8[p++]!));
    digits++;
  }
  if (p < end && u8[p] === 46) {
    p++;
    while (p < end && hexVal(u8[p]!) >= 0) {
      mant = mant * 16n + BigInt(hexVal(u8[p++]!));
      exp -= 4;
      digits++;
    }
  }
  if (digits === 0) return null;
  if (p < end && (u8[p]! | 32) === 112) {
    let q = p + 1;
    let eneg = false;
    if (q < end && (u8[q] === 43 || u8[q] === 45)) eneg = u8[q++] === 45;
    if (q < end && isDigit(u8[q]!)) {
      let e = 0;
      while (q < end && isDigit(u8[q]!)) e = Math.min(e * 10 + (u8[q++]! - 48), 1e6);
      exp += eneg ? -e : e;
      p = q;
    }
  }
  let v = Number(mant) * 2 ** exp;
  if (!Number.isFinite(2 ** exp)) v = Number(mant) * 2 ** (exp / 2) * 2 ** (exp - exp / 2);
  if (v === Infinity || (v === 0 && mant !== 0n)) strtodState.erange = true;
  return { v: neg ? -v : v, end: p };
}

/** Redis string2d (ZADD/ZINCRBY scores, WEIGHTS): NaN when the argument is not a valid float. */
export function argDouble(req: RequestView, i: number): number {
  const off = req.off[i]!;
  const len = req.len[i]!;
  if (len === 0 || isSpace(req.u8[off]!)) return NaN;
  const v = strtod(req.u8, off, len);
  if (strtodState.end !== len) return NaN;
  if (strtodState.erange && (v === Infinity || v === -Infinity || v === 0)) return NaN;
  return v;
}

/** One end of zslParseRange: '(' for exclusive, then strtod up to the end or a NUL byte. */
function scoreBound(req: RequestView, i: number, r: ScoreRange, isMin: boolean): boolean {
  let off = req.off[i]!;
  let len = req.len[i]!;
  const u8 = req.u8;
  const ex = len > 0 && u8[off] === 40;
  if (ex) {
    off++;
    len--;
  }
  const v = strtod(u8, off, len);
  const e = strtodState.end;
  if ((e !== len && u8[off + e] !== 0) || v !== v) return false;
  if (isMin) {
    r.min = v;
    r.minex = ex;
  } else {
    r.max = v;
    r.maxex = ex;
  }
  return true;
}

/** zslParseRange into `r`; false → "min or max is not a float". */
export function parseScoreRange(req: RequestView, iMin: number, iMax: number, r: ScoreRange): boolean {
  return scoreBound(req, iMin, r, true) && scoreBound(req, iMax, r, false);
}

/** zslParseLexRangeItem; false → "min or max not valid string range item". */
function lexItem(req: RequestView, i: number, r: LexRange, isMin: boolean): boolean {
  const off = req.off[i]!;
  const len = req.len[i]!;
  const u8 = req.u8;
  if (len === 0) return false;
  const c = u8[off]!;
  let kind = 0;
  let ex = true;
  let s = '';
  if (c === 43 || c === 45) {
    // C checks c[1] != '\0': a NUL right after the sign still counts as the bare sign.
    if (len > 1 && u8[off + 1] !== 0) return false;
    kind = c === 43 ? 1 : -1;
  } else if (c === 40 || c === 91) {
    ex = c === 40;
    s = latin1(u8, off + 1, len - 1);
  } else return false;
  if (isMin) {
    r.minKind = kind;
    r.min = s;
    r.minex = ex;
  } else {
    r.maxKind = kind;
    r.max = s;
    r.maxex = ex;
  }
  return true;
}

export function parseLexRange(req: RequestView, iMin: number, iMax: number, r: LexRange): boolean {
  return lexItem(req, iMin, r, true) && lexItem(req, iMax, r, false);
}

export function newScoreRange(): ScoreRange {
  return { min: 0, max: 0, minex: false, maxex: false };
}

export function newLexRange(): LexRange {
  return { minKind: 0, min: '', minex: false, maxKind: 0, max: '', maxex: false };
}

/** getLongFromObject: the argument as a number (approximate beyond 2^53), NaN when invalid. */
export function argLong(req: RequestView, i: number): number {
  const v = argInt64(req, i);
  return v === null ? NaN : Number(v);
}
