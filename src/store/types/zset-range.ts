/**
 * Score and lex ranges of the sorted-set commands (Redis's zrangespec / zlexrangespec) and their
 * tests, shared by both encodings. Lex bounds compare latin1 strings, i.e. memcmp order.
 */

/** Score range with Redis's exclusive flags (zrangespec). */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** Lex range bound: kind -1 is '-', +1 is '+', 0 a string `s` (zlexrangespec). */
export interface LexRange {
  minKind: number;
  min: string;
  minex: boolean;
  maxKind: number;
  max: string;
  maxex: boolean;
}

export function gteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}
export function lteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

/** sdscmplex(member, bound) sign for a string member. */
export function cmpLex(s: string, kind: number, bound: string): number {
  if (kind !== 0) return -kind;
  return s < bound ? -1 : s > bound ? 1 : 0;
}
export function lexGteMin(s: string, r: LexRange): boolean {
  const c = cmpLex(s, r.minKind, r.min);
  return r.minex ? c > 0 : c >= 0;
}
export function lexLteMax(s: string, r: LexRange): boolean {
  const c = cmpLex(s, r.maxKind, r.max);
  return r.maxex ? c < 0 : c <= 0;
}

/** Ranges that can never match (zslIsInRange / zslIsInLexRange first test). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}
export function lexRangeEmpty(r: LexRange): boolean {
  let c: number;
  if (r.minKind === r.maxKind && r.minKind !== 0) c = 0;
  else if (r.minKind === -1 || r.maxKind === 1) c = -1;
  else if (r.minKind === 1 || r.maxKind === -1) c = 1;
  else c = r.min < r.max ? -1 : r.min > r.max ? 1 : 0;
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}
