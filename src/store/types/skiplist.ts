/**
 * Redis's zskiplist (t_zset.c) with spans, with every node a record in ONE Int32Array pool (the
 * same bytes viewed as a Float64Array for scores). A node id is its record's offset, so a walk
 * step reads the forward link, the next node's score and (on inserts) the span from one or two
 * cache lines, instead of one line per parallel array: at 1M members the walk is cache misses.
 *
 *   i32[x], i32[x+1]      score (f64[x >> 1]; offsets are even so it is 8-byte aligned)
 *   i32[x+BACK]           backward link
 *   i32[x+LVL]            level count
 *   i32[x+ELE]            index of the member in `ele` (a latin1 string: JS < is memcmp order)
 *   i32[x+HDR+2i], +1     forward link and span at level i
 *
 * Node 0 is the header (MAXLEVEL levels); 0 as a link means "none". Order is (score, member
 * bytes). Spans make rank and rank → node O(log n). Freed records are reused (free lists per
 * level count); when most records are free the list is rebuilt compactly (compact()), so memory
 * follows the live size like Redis's per-node allocations.
 */

export const MAXLEVEL = 32;

// Ranges are shared with the listpack encoding.
import {
  gteMin,
  lexGteMin,
  lexLteMax,
  lexRangeEmpty,
  lteMax,
  scoreRangeEmpty,
  type LexRange,
  type ScoreRange,
} from './zset-range.ts';

const BACK = 2;
const LVL = 3;
const ELE = 4;
/** Ints before the level pairs (even, so records stay 8-byte aligned). */
const HDR = 6;

// xorshift32: zslRandomLevel only needs a cheap uniform source.
let seed = (Date.now() ^ 0x9e3779b9) | 1;
function randomLevel(): number {
  let level = 1;
  for (;;) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    if ((seed & 0xffff) >= 0x3fff) break; // ZSKIPLIST_P = 0.25
    level++;
  }
  return level < MAXLEVEL ? level : MAXLEVEL;
}

// Search paths, shared by every list of the thread (operations never nest).
const update = new Int32Array(MAXLEVEL);
const rankAt = new Int32Array(MAXLEVEL);

export class SkipList {
  length = 0;
  level = 1;
  tail = 0;
  i32: Int32Array;
  f64: Float64Array;
  /** Members by the record's ELE index ('' when free). */
  ele: string[] = [];
  /** Next unused int of the pool. */
  private top = HDR + 2 * MAXLEVEL;
  /** Records ever carved from the pool (live + free). */
  private records = 0;
  private readonly freeEle: number[] = [];
  private readonly freeRecs: number[][] = [];
  /** Sum of member lengths (bytes()). */
  memberBytes = 0;

  constructor(nodeCap = 16) {
    this.i32 = new Int32Array(HDR + 2 * MAXLEVEL + nodeCap * (HDR + 4));
    this.f64 = new Float64Array(this.i32.buffer);
    this.i32[LVL] = MAXLEVEL;
    for (let i = 0; i < MAXLEVEL; i++) this.freeRecs.push([]);
  }

  /** Typed-array bytes held (capacity, not just the live part) and the member slots. */
  arrayBytes(): number {
    return this.i32.byteLength + this.ele.length * 8;
  }

  first(): number {
    return this.i32[HDR]!;
  }

  next(x: number): number {
    return this.i32[x + HDR]!;
  }

  prev(x: number): number {
    return this.i32[x + BACK]!;
  }

  scoreOf(x: number): number {
    return this.f64[x >> 1]!;
  }

  eleOf(x: number): string {
    return this.ele[this.i32[x + ELE]!]!;
  }

  private allocNode(level: number): number {
    let x = this.freeRecs[level - 1]!.pop();
    if (x === undefined) {
      x = this.top;
      this.top += HDR + 2 * level;
      if (this.top > this.i32.length) this.grow(Math.max(this.i32.length * 2, this.top));
      this.records++;
    }
    let id = this.freeEle.pop();
    if (id === undefined) {
      id = this.ele.length;
      this.ele.push('');
    }
    this.i32[x + LVL] = level;
    this.i32[x + ELE] = id;
    return x;
  }

  private freeNode(x: number): void {
    const i32 = this.i32;
    this.freeRecs[i32[x + LVL]! - 1]!.push(x);
    const id = i32[x + ELE]!;
    this.memberBytes -= this.ele[id]!.length;
    this.ele[id] = '';
    this.freeEle.push(id);
  }

  /** `ints` is even (the pool is always a whole number of doubles). */
  private grow(ints: number): void {
    const n = new Int32Array(ints);
    n.set(this.i32);
    this.i32 = n;
    this.f64 = new Float64Array(n.buffer);
  }

  /**
   * Fills `update` / `rankAt` with the last nodes before (s, e) at each level and their ranks,
   * raising the list's level to `level` (zslInsert's first half).
   */
  private place(s: number, e: string, level: number): void {
    const i32 = this.i32;
    const f64 = this.f64;
    const ele = this.ele;
    let x = 0;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const p = x + HDR + 2 * i;
        const f = i32[p]!;
        if (f === 0) break;
        const fs = f64[f >> 1]!;
        if (fs > s || (fs === s && !(ele[i32[f + ELE]!]! < e))) break;
        rank += i32[p + 1]!;
        x = f;
      }
      rankAt[i] = rank;
      update[i] = x;
    }
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rankAt[i] = 0;
        update[i] = 0;
        i32[HDR + 2 * i + 1] = this.length;
      }
      this.level = level;
    }
  }

  /** zslInsert's second half: links node x (level `level`) after the path place() left. */
  private link(x: number, level: number): void {
    const i32 = this.i32;
    const r0 = rankAt[0]!;
    for (let i = 0; i < level; i++) {
      const pu = update[i]! + HDR + 2 * i;
      const px = x + HDR + 2 * i;
      const d = r0 - rankAt[i]!;
      i32[px] = i32[pu]!;
      i32[pu] = x;
      i32[px + 1] = i32[pu + 1]! - d;
      i32[pu + 1] = d + 1;
    }
    for (let i = level; i < this.level; i++) i32[update[i]! + HDR + 2 * i + 1]!++;
    i32[x + BACK] = update[0]!;
    const n = i32[x + HDR]!;
    if (n !== 0) i32[n + BACK] = x;
    else this.tail = x;
    this.length++;
  }

  /** zslInsert: the member must not be present. Returns the new node. */
  insert(s: number, e: string): number {
    const level = randomLevel();
    this.place(s, e, level);
    const x = this.allocNode(level);
    this.f64[x >> 1] = s;
    this.ele[this.i32[x + ELE]!] = e;
    this.memberBytes += e.length;
    this.link(x, level);
    return x;
  }

  /**
   * zslUpdateScore: node x gets score s and keeps its id. When it stays between its neighbours
   * only the score changes (Redis checks scores only; the full (score, member) order here also
   * covers ties); otherwise it is unlinked and relinked at its new place, reusing the record.
   */
  updateScore(x: number, s: number): void {
    const i32 = this.i32;
    const f64 = this.f64;
    const e = this.ele[i32[x + ELE]!]!;
    const b = i32[x + BACK]!;
    const n = i32[x + HDR]!;
    if (b === 0 || this.before(b, s, e)) {
      if (n === 0) {
        f64[x >> 1] = s;
        return;
      }
      const ns = f64[n >> 1]!;
      if (s < ns || (s === ns && e < this.ele[i32[n + ELE]!]!)) {
        f64[x >> 1] = s;
        return;
      }
    }
    this.path(f64[x >> 1]!, e);
    this.unlink(x);
    const level = i32[x + LVL]!;
    this.place(s, e, level);
    this.f64[x >> 1] = s;
    this.link(x, level);
  }

  /** (score, ele) of node f is before (s, e). */
  private before(f: number, s: number, e: string): boolean {
    const fs = this.f64[f >> 1]!;
    return fs < s || (fs === s && this.ele[this.i32[f + ELE]!]! < e);
  }

  /** zslDeleteNode with the search path in `update`. */
  private unlink(x: number): void {
    const i32 = this.i32;
    for (let i = 0; i < this.level; i++) {
      const pu = update[i]! + HDR + 2 * i;
      if (i32[pu] === x) {
        const px = x + HDR + 2 * i;
        i32[pu + 1] += i32[px + 1]! - 1;
        i32[pu] = i32[px]!;
      } else i32[pu + 1]!--;
    }
    const n = i32[x + HDR]!;
    if (n !== 0) i32[n + BACK] = i32[x + BACK]!;
    else this.tail = i32[x + BACK]!;
    while (this.level > 1 && i32[HDR + 2 * (this.level - 1)] === 0) this.level--;
    this.length--;
  }

  /** Fills `update` with the last nodes before (s, e) at each level; returns the level-0 one. */
  private path(s: number, e: string): number {
    const i32 = this.i32;
    const f64 = this.f64;
    const ele = this.ele;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = i32[x + HDR + 2 * i]!;
        if (f === 0) break;
        const fs = f64[f >> 1]!;
        if (fs > s || (fs === s && !(ele[i32[f + ELE]!]! < e))) break;
        x = f;
      }
      update[i] = x;
    }
    return x;
  }

  /** zslDelete: removes node x (found through the member map). The node id is freed. */
  delete(x: number): void {
    this.path(this.f64[x >> 1]!, this.eleOf(x));
    this.unlink(x);
    this.freeNode(x);
  }

  /** 1-based rank of node x (zslGetRank). */
  rank(x: number): number {
    const i32 = this.i32;
    const f64 = this.f64;
    const s = f64[x >> 1]!;
    const e = this.eleOf(x);
    let r = 0;
    let y = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const p = y + HDR + 2 * i;
        const f = i32[p]!;
        if (f === 0) break;
        const fs = f64[f >> 1]!;
        if (fs > s || (fs === s && this.eleOf(f) > e)) break;
        r += i32[p + 1]!;
        y = f;
      }
      if (y === x) return r;
    }
    return 0;
  }

  /** Node at 1-based rank, 0 when out of range (zslGetElementByRank). */
  byRank(rank: number): number {
    const i32 = this.i32;
    let traversed = 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const p = x + HDR + 2 * i;
        const f = i32[p]!;
        if (f === 0 || traversed + i32[p + 1]! > rank) break;
        traversed += i32[p + 1]!;
        x = f;
      }
      if (traversed === rank) return x;
    }
    return 0;
  }

  firstInRange(r: ScoreRange): number {
    if (!this.inRange(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || gteMin(this.f64[f >> 1]!, r)) break;
        x = f;
      }
    }
    x = this.next(x);
    return x !== 0 && lteMax(this.f64[x >> 1]!, r) ? x : 0;
  }

  lastInRange(r: ScoreRange): number {
    if (!this.inRange(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || !lteMax(this.f64[f >> 1]!, r)) break;
        x = f;
      }
    }
    return x !== 0 && gteMin(this.f64[x >> 1]!, r) ? x : 0;
  }

  private inRange(r: ScoreRange): boolean {
    if (scoreRangeEmpty(r) || this.tail === 0) return false;
    return gteMin(this.f64[this.tail >> 1]!, r) && lteMax(this.f64[this.first() >> 1]!, r);
  }

  firstInLex(r: LexRange): number {
    if (!this.inLex(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || lexGteMin(this.eleOf(f), r)) break;
        x = f;
      }
    }
    x = this.next(x);
    return x !== 0 && lexLteMax(this.eleOf(x), r) ? x : 0;
  }

  lastInLex(r: LexRange): number {
    if (!this.inLex(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || !lexLteMax(this.eleOf(f), r)) break;
        x = f;
      }
    }
    return x !== 0 && lexGteMin(this.eleOf(x), r) ? x : 0;
  }

  private inLex(r: LexRange): boolean {
    if (lexRangeEmpty(r) || this.tail === 0) return false;
    return lexGteMin(this.eleOf(this.tail), r) && lexLteMax(this.eleOf(this.first()), r);
  }

  /**
   * Removes the nodes from `x` (whose search path is in `update`) while `keep` says so, calling
   * `gone` with each member before its node is freed. Returns the count.
   */
  private sweep(x: number, keep: (x: number) => boolean, gone: (e: string) => void): number {
    let removed = 0;
    while (x !== 0 && keep(x)) {
      const n = this.next(x);
      this.unlink(x);
      gone(this.eleOf(x));
      this.freeNode(x);
      removed++;
      x = n;
    }
    return removed;
  }

  deleteRangeByScore(r: ScoreRange, gone: (e: string) => void): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || gteMin(this.f64[f >> 1]!, r)) break;
        x = f;
      }
      update[i] = x;
    }
    return this.sweep(this.next(x), (y) => lteMax(this.f64[y >> 1]!, r), gone);
  }

  deleteRangeByLex(r: LexRange, gone: (e: string) => void): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.i32[x + HDR + 2 * i]!;
        if (f === 0 || lexGteMin(this.eleOf(f), r)) break;
        x = f;
      }
      update[i] = x;
    }
    return this.sweep(this.next(x), (y) => lexLteMax(this.eleOf(y), r), gone);
  }

  /** 1-based inclusive ranks (zslDeleteRangeByRank). */
  deleteRangeByRank(start: number, end: number, gone: (e: string) => void): number {
    const i32 = this.i32;
    let traversed = 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const p = x + HDR + 2 * i;
        const f = i32[p]!;
        if (f === 0 || traversed + i32[p + 1]! >= start) break;
        traversed += i32[p + 1]!;
        x = f;
      }
      update[i] = x;
    }
    let rank = traversed + 1;
    return this.sweep(this.next(x), () => rank++ <= end, gone);
  }

  /**
   * Builds a list from members already in (score, member) order in O(n): each node is linked
   * after the last node of each of its levels.
   */
  static fromSorted(n: number, scoreOf: (i: number) => number, eleOf: (i: number) => string): SkipList {
    const sl = new SkipList(Math.max(16, n + 1));
    const last = new Int32Array(MAXLEVEL);
    const lastRank = new Int32Array(MAXLEVEL);
    for (let k = 0; k < n; k++) {
      const level = randomLevel();
      if (level > sl.level) sl.level = level;
      const x = sl.allocNode(level);
      const i32 = sl.i32;
      const e = eleOf(k);
      sl.f64[x >> 1] = scoreOf(k);
      sl.ele[i32[x + ELE]!] = e;
      sl.memberBytes += e.length;
      i32[x + BACK] = last[0]!;
      const r = k + 1;
      for (let i = 0; i < level; i++) {
        const pp = last[i]! + HDR + 2 * i;
        i32[pp] = x;
        i32[pp + 1] = r - lastRank[i]!;
        i32[x + HDR + 2 * i] = 0;
        last[i] = x;
        lastRank[i] = r;
      }
      sl.tail = x;
    }
    sl.length = n;
    for (let i = 0; i < sl.level; i++) sl.i32[last[i]! + HDR + 2 * i + 1] = n - lastRank[i]!;
    return sl;
  }

  /** True when most records are free: the owner should rebuild with compact(). */
  sparse(): boolean {
    return this.records > 256 && this.length * 4 < this.records;
  }

  /** A compact copy in the same order (node ids change). */
  compact(): SkipList {
    let x = this.first();
    const ids = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++, x = this.next(x)) ids[k] = x;
    return SkipList.fromSorted(
      this.length,
      (k) => this.scoreOf(ids[k]!),
      (k) => this.eleOf(ids[k]!),
    );
  }
}
