/**
 * Redis's zskiplist (t_zset.c) with spans, laid out as parallel typed arrays instead of one heap
 * object per node: node i has score[i], ele[i] (the member as a latin1 string, so JS string
 * comparison is memcmp order), back[i], and lvl[i] consecutive level slots from base[i] in the
 * fwd/span pools. Node 0 is the header (MAXLEVEL slots); 0 as a link means "none".
 *
 * Order is (score, member bytes). Spans make rank and rank → node O(log n). Freed nodes and level
 * slots are reused (free lists per level count); when most nodes are free the list is rebuilt
 * compactly (compact()), so memory follows the live size like Redis's per-node allocations.
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
const rankAt = new Float64Array(MAXLEVEL);

export class SkipList {
  length = 0;
  level = 1;
  tail = 0;
  score: Float64Array;
  back: Int32Array;
  lvl: Uint8Array;
  base: Int32Array;
  ele: string[] = [''];
  fwd: Int32Array;
  span: Int32Array;
  private nodeTop = 1;
  private poolTop = MAXLEVEL;
  private readonly freeNodes: number[] = [];
  private freeSlots: number[][] = [];
  /** Sum of member lengths (bytes()). */
  memberBytes = 0;

  constructor(nodeCap = 16) {
    this.score = new Float64Array(nodeCap);
    this.back = new Int32Array(nodeCap);
    this.lvl = new Uint8Array(nodeCap);
    this.base = new Int32Array(nodeCap);
    const pool = MAXLEVEL + nodeCap * 2;
    this.fwd = new Int32Array(pool);
    this.span = new Int32Array(pool);
    this.lvl[0] = MAXLEVEL;
    for (let i = 0; i < MAXLEVEL; i++) this.freeSlots.push([]);
  }

  /** Typed-array bytes held (capacity, not just the live part). */
  arrayBytes(): number {
    return (
      this.score.byteLength +
      this.back.byteLength +
      this.lvl.byteLength +
      this.base.byteLength +
      this.fwd.byteLength +
      this.span.byteLength +
      this.score.length * 8 // ele slots
    );
  }

  first(): number {
    return this.fwd[this.base[0]!]!;
  }

  next(x: number): number {
    return this.fwd[this.base[x]!]!;
  }

  private allocNode(level: number): number {
    let x = this.freeNodes.pop();
    if (x === undefined) {
      x = this.nodeTop++;
      if (x >= this.score.length) this.growNodes(this.score.length * 2);
    }
    const free = this.freeSlots[level - 1]!;
    let b = free.pop();
    if (b === undefined) {
      b = this.poolTop;
      this.poolTop += level;
      if (this.poolTop > this.fwd.length) this.growPool(Math.max(this.fwd.length * 2, this.poolTop));
    }
    this.base[x] = b;
    this.lvl[x] = level;
    return x;
  }

  private freeNode(x: number): void {
    this.freeSlots[this.lvl[x]! - 1]!.push(this.base[x]!);
    this.memberBytes -= this.ele[x]!.length;
    this.ele[x] = '';
    this.freeNodes.push(x);
  }

  private growNodes(cap: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const n = make(cap);
      n.set(a.subarray(0, Math.min(a.length, cap)));
      return n;
    };
    this.score = grow(this.score, (n) => new Float64Array(n));
    this.back = grow(this.back, (n) => new Int32Array(n));
    this.lvl = grow(this.lvl, (n) => new Uint8Array(n));
    this.base = grow(this.base, (n) => new Int32Array(n));
  }

  private growPool(cap: number): void {
    const f = new Int32Array(cap);
    f.set(this.fwd);
    this.fwd = f;
    const s = new Int32Array(cap);
    s.set(this.span);
    this.span = s;
  }

  /** (score, ele) of node f is before (s, e). */
  private before(f: number, s: number, e: string): boolean {
    const fs = this.score[f]!;
    return fs < s || (fs === s && this.ele[f]! < e);
  }

  /** zslInsert: the member must not be present. Returns the new node. */
  insert(s: number, e: string): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      rankAt[i] = i === this.level - 1 ? 0 : rankAt[i + 1]!;
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || !this.before(f, s, e)) break;
        rankAt[i] += this.span[this.base[x]! + i]!;
        x = f;
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rankAt[i] = 0;
        update[i] = 0;
        this.span[i] = this.length; // header slots are 0..MAXLEVEL-1
      }
      this.level = level;
    }
    x = this.allocNode(level);
    this.score[x] = s;
    this.ele[x] = e;
    this.memberBytes += e.length;
    const fwd = this.fwd;
    const span = this.span;
    const bx = this.base[x]!;
    for (let i = 0; i < level; i++) {
      const bu = this.base[update[i]!]! + i;
      fwd[bx + i] = fwd[bu]!;
      fwd[bu] = x;
      span[bx + i] = span[bu]! - (rankAt[0]! - rankAt[i]!);
      span[bu] = rankAt[0]! - rankAt[i]! + 1;
    }
    for (let i = level; i < this.level; i++) span[this.base[update[i]!]! + i]!++;
    this.back[x] = update[0]!;
    const n = fwd[bx]!;
    if (n !== 0) this.back[n] = x;
    else this.tail = x;
    this.length++;
    return x;
  }

  /** zslDeleteNode with the search path in `update`. */
  private unlink(x: number): void {
    const fwd = this.fwd;
    const span = this.span;
    const bx = this.base[x]!;
    const lx = this.lvl[x]!;
    for (let i = 0; i < this.level; i++) {
      const bu = this.base[update[i]!]! + i;
      if (fwd[bu] === x) {
        span[bu] += span[bx + i]! - 1;
        fwd[bu] = i < lx ? fwd[bx + i]! : 0;
      } else span[bu]!--;
    }
    const n = fwd[bx]!;
    if (n !== 0) this.back[n] = this.back[x]!;
    else this.tail = this.back[x]!;
    while (this.level > 1 && fwd[this.level - 1] === 0) this.level--;
    this.length--;
  }

  /** Fills `update` with the last nodes before (s, e) at each level; returns the level-0 one. */
  private path(s: number, e: string): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || !this.before(f, s, e)) break;
        x = f;
      }
      update[i] = x;
    }
    return x;
  }

  /** zslDelete: removes node x (found through the member map). The node id is freed. */
  delete(x: number): void {
    this.path(this.score[x]!, this.ele[x]!);
    this.unlink(x);
    this.freeNode(x);
  }

  /** 1-based rank of node x (zslGetRank). */
  rank(x: number): number {
    const s = this.score[x]!;
    const e = this.ele[x]!;
    let r = 0;
    let y = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[y]! + i]!;
        if (f === 0) break;
        const fs = this.score[f]!;
        if (!(fs < s || (fs === s && this.ele[f]! <= e))) break;
        r += this.span[this.base[y]! + i]!;
        y = f;
      }
      if (y === x) return r;
    }
    return 0;
  }

  /** Node at 1-based rank, 0 when out of range (zslGetElementByRank). */
  byRank(rank: number): number {
    let traversed = 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || traversed + this.span[this.base[x]! + i]! > rank) break;
        traversed += this.span[this.base[x]! + i]!;
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
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || gteMin(this.score[f]!, r)) break;
        x = f;
      }
    }
    x = this.next(x);
    return x !== 0 && lteMax(this.score[x]!, r) ? x : 0;
  }

  lastInRange(r: ScoreRange): number {
    if (!this.inRange(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || !lteMax(this.score[f]!, r)) break;
        x = f;
      }
    }
    return x !== 0 && gteMin(this.score[x]!, r) ? x : 0;
  }

  private inRange(r: ScoreRange): boolean {
    if (scoreRangeEmpty(r) || this.tail === 0) return false;
    return gteMin(this.score[this.tail]!, r) && lteMax(this.score[this.first()]!, r);
  }

  firstInLex(r: LexRange): number {
    if (!this.inLex(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || lexGteMin(this.ele[f]!, r)) break;
        x = f;
      }
    }
    x = this.next(x);
    return x !== 0 && lexLteMax(this.ele[x]!, r) ? x : 0;
  }

  lastInLex(r: LexRange): number {
    if (!this.inLex(r)) return 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || !lexLteMax(this.ele[f]!, r)) break;
        x = f;
      }
    }
    return x !== 0 && lexGteMin(this.ele[x]!, r) ? x : 0;
  }

  private inLex(r: LexRange): boolean {
    if (lexRangeEmpty(r) || this.tail === 0) return false;
    return lexGteMin(this.ele[this.tail]!, r) && lexLteMax(this.ele[this.first()]!, r);
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
      gone(this.ele[x]!);
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
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || gteMin(this.score[f]!, r)) break;
        x = f;
      }
      update[i] = x;
    }
    return this.sweep(this.next(x), (y) => lteMax(this.score[y]!, r), gone);
  }

  deleteRangeByLex(r: LexRange, gone: (e: string) => void): number {
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || lexGteMin(this.ele[f]!, r)) break;
        x = f;
      }
      update[i] = x;
    }
    return this.sweep(this.next(x), (y) => lexLteMax(this.ele[y]!, r), gone);
  }

  /** 1-based inclusive ranks (zslDeleteRangeByRank). */
  deleteRangeByRank(start: number, end: number, gone: (e: string) => void): number {
    let traversed = 0;
    let x = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      for (;;) {
        const f = this.fwd[this.base[x]! + i]!;
        if (f === 0 || traversed + this.span[this.base[x]! + i]! >= start) break;
        traversed += this.span[this.base[x]! + i]!;
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
    const lastRank = new Float64Array(MAXLEVEL);
    for (let k = 0; k < n; k++) {
      const level = randomLevel();
      if (level > sl.level) sl.level = level;
      const x = sl.allocNode(level);
      const e = eleOf(k);
      sl.score[x] = scoreOf(k);
      sl.ele[x] = e;
      sl.memberBytes += e.length;
      sl.back[x] = last[0]!;
      const r = k + 1;
      const bx = sl.base[x]!;
      for (let i = 0; i < level; i++) {
        const bp = sl.base[last[i]!]! + i;
        sl.fwd[bp] = x;
        sl.span[bp] = r - lastRank[i]!;
        sl.fwd[bx + i] = 0;
        last[i] = x;
        lastRank[i] = r;
      }
      sl.tail = x;
    }
    sl.length = n;
    for (let i = 0; i < sl.level; i++) sl.span[sl.base[last[i]!]! + i] = n - lastRank[i]!;
    return sl;
  }

  /** True when most node slots are free: the owner should rebuild with compact(). */
  sparse(): boolean {
    return this.nodeTop > 256 && this.length * 4 < this.nodeTop;
  }

  /** A compact copy in the same order (node ids change). */
  compact(): SkipList {
    let x = this.first();
    const ids = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++, x = this.next(x)) ids[k] = x;
    return SkipList.fromSorted(
      this.length,
      (k) => this.score[ids[k]!]!,
      (k) => this.ele[ids[k]!]!,
    );
  }
}
