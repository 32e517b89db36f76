/**
 * The small sorted-set encoding (Redis's listpack, at most 128 entries of at most 64 bytes):
 * entries in (score, member) order as a Float64Array of scores plus every member's bytes packed
 * back to back in one Uint8Array with an offsets array. Inserts and deletes shift bytes
 * (copyWithin), lookups by member scan linearly, as a listpack does; nothing allocates per entry.
 */
import { gteMin, lexRangeEmpty, lteMax, type LexRange, type ScoreRange } from './zset-range.ts';

/** memcmp order of member i's bytes against u8[off, off+len). */
function cmpBytes(a: Uint8Array, ao: number, al: number, b: Uint8Array, bo: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let k = 0; k < n; k++) {
    const d = a[ao + k]! - b[bo + k]!;
    if (d !== 0) return d;
  }
  return al - bl;
}

function cmpBytesStr(a: Uint8Array, ao: number, al: number, s: string): number {
  const bl = s.length;
  const n = al < bl ? al : bl;
  for (let k = 0; k < n; k++) {
    const d = a[ao + k]! - s.charCodeAt(k);
    if (d !== 0) return d;
  }
  return al - bl;
}

/** Latin1 string of bytes (one char per byte: binary-safe and memcmp-ordered). */
export function latin1(u8: Uint8Array, off: number, len: number): string {
  if (len <= 16) {
    let s = '';
    for (let i = off; i < off + len; i++) s += String.fromCharCode(u8[i]!);
    return s;
  }
  return Buffer.prototype.latin1Slice.call(u8, off, off + len) as string;
}

// Scratch bytes for members given as strings (at most a listpack member: 64 bytes).
let strBuf = new Uint8Array(64);
function strBytes(s: string): Uint8Array {
  if (s.length > strBuf.length) strBuf = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) strBuf[i] = s.charCodeAt(i);
  return strBuf;
}

export class Listpack {
  n = 0;
  scores: Float64Array;
  /** Member i is data[offs[i], offs[i+1]). */
  offs: Int32Array;
  data: Uint8Array;

  constructor(cap = 4, dataCap = 64) {
    this.scores = new Float64Array(cap);
    this.offs = new Int32Array(cap + 1);
    this.data = new Uint8Array(dataCap);
  }

  bytes(): number {
    return this.scores.byteLength + this.offs.byteLength + this.data.byteLength;
  }

  memberLen(i: number): number {
    return this.offs[i + 1]! - this.offs[i]!;
  }

  member(i: number): string {
    return latin1(this.data, this.offs[i]!, this.memberLen(i));
  }

  /** Index of the member, -1 when absent. */
  find(u8: Uint8Array, off: number, len: number): number {
    const offs = this.offs;
    const data = this.data;
    for (let i = 0; i < this.n; i++) {
      const o = offs[i]!;
      if (offs[i + 1]! - o !== len) continue;
      let k = 0;
      while (k < len && data[o + k] === u8[off + k]) k++;
      if (k === len) return i;
    }
    return -1;
  }

  findStr(s: string): number {
    return s.length > 64 ? -1 : this.find(strBytes(s), 0, s.length);
  }

  /** Inserts a member (absent) at its ordered position; returns the index. */
  insert(u8: Uint8Array, off: number, len: number, score: number): number {
    // First index whose (score, member) is greater than the new one.
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = this.scores[mid]!;
      const o = this.offs[mid]!;
      if (s < score || (s === score && cmpBytes(this.data, o, this.offs[mid + 1]! - o, u8, off, len) < 0))
        lo = mid + 1;
      else hi = mid;
    }
    this.insertAt(lo, u8, off, len, score);
    return lo;
  }

  insertStr(s: string, score: number): number {
    return this.insert(strBytes(s), 0, s.length, score);
  }

  /** Appends after every entry: the caller guarantees order (building from sorted input). */
  append(u8: Uint8Array, off: number, len: number, score: number): void {
    this.insertAt(this.n, u8, off, len, score);
  }

  appendStr(s: string, score: number): void {
    this.insertAt(this.n, strBytes(s), 0, s.length, score);
  }

  private insertAt(i: number, u8: Uint8Array, off: number, len: number, score: number): void {
    const n = this.n;
    if (n + 1 > this.scores.length) {
      const cap = this.scores.length * 2;
      const sc = new Float64Array(cap);
      sc.set(this.scores);
      this.scores = sc;
      const of = new Int32Array(cap + 1);
      of.set(this.offs);
      this.offs = of;
    }
    const end = this.offs[n]!;
    if (end + len > this.data.length) {
      const d = new Uint8Array(Math.max(this.data.length * 2, end + len));
      d.set(this.data.subarray(0, end));
      this.data = d;
    }
    const at = this.offs[i]!;
    const data = this.data;
    if (i < n) {
      data.copyWithin(at + len, at, end);
      this.scores.copyWithin(i + 1, i, n);
    }
    const offs = this.offs;
    for (let k = n + 1; k > i; k--) offs[k] = offs[k - 1]! + len;
    for (let k = 0; k < len; k++) data[at + k] = u8[off + k]!;
    // Redis 7.0 stores listpack scores as d2string text, which writes -0 as "0".
    this.scores[i] = score === 0 ? 0 : score;
    this.n = n + 1;
  }

  /** Removes entries [i, j). */
  removeRange(i: number, j: number): void {
    if (j <= i) return;
    const n = this.n;
    const offs = this.offs;
    const at = offs[i]!;
    const cut = offs[j]! - at;
    this.data.copyWithin(at, offs[j]!, offs[n]!);
    this.scores.copyWithin(i, j, n);
    const gone = j - i;
    for (let k = i + 1; k <= n - gone; k++) offs[k] = offs[k + gone]! - cut;
    this.n = n - gone;
  }

  /** memcmp sign of member i against the lex bound. */
  private cmpBound(i: number, kind: number, s: string): number {
    if (kind !== 0) return -kind;
    const o = this.offs[i]!;
    return cmpBytesStr(this.data, o, this.offs[i + 1]! - o, s);
  }

  lexGteMin(i: number, r: LexRange): boolean {
    const c = this.cmpBound(i, r.minKind, r.min);
    return r.minex ? c > 0 : c >= 0;
  }

  lexLteMax(i: number, r: LexRange): boolean {
    const c = this.cmpBound(i, r.maxKind, r.max);
    return r.maxex ? c < 0 : c <= 0;
  }

  firstInRange(r: ScoreRange): number {
    for (let i = 0; i < this.n; i++) {
      const s = this.scores[i]!;
      if (gteMin(s, r)) return lteMax(s, r) ? i : -1;
    }
    return -1;
  }

  lastInRange(r: ScoreRange): number {
    for (let i = this.n - 1; i >= 0; i--) {
      const s = this.scores[i]!;
      if (lteMax(s, r)) return gteMin(s, r) ? i : -1;
    }
    return -1;
  }

  /**
   * zzlIsInLexRange: the first/last element test Redis runs before a lex walk. Members are in
   * score order, so with unequal scores this decides results on its own, and Redis's answers
   * depend on it.
   */
  private inLex(r: LexRange): boolean {
    if (lexRangeEmpty(r) || this.n === 0) return false;
    return this.lexGteMin(this.n - 1, r) && this.lexLteMax(0, r);
  }

  firstInLex(r: LexRange): number {
    if (!this.inLex(r)) return -1;
    for (let i = 0; i < this.n; i++) {
      if (this.lexGteMin(i, r)) return this.lexLteMax(i, r) ? i : -1;
    }
    return -1;
  }

  lastInLex(r: LexRange): number {
    if (!this.inLex(r)) return -1;
    for (let i = this.n - 1; i >= 0; i--) {
      if (this.lexLteMax(i, r)) return this.lexGteMin(i, r) ? i : -1;
    }
    return -1;
  }
}
