/**
 * Sorted set values (TYPE_ZSET), in Redis's two encodings: 'listpack' (Listpack: packed sorted
 * arrays) while there are at most 128 members of at most 64 bytes, then 'skiplist' (SkipList with
 * spans plus a ByteTable member bytes → node id, so lookups hash the argument bytes in place). Like Redis the conversion only goes one way for a live value;
 * values built whole (ZUNIONSTORE, ZRANGESTORE, restore) pick the encoding that fits.
 *
 * Commands address entries by position: a listpack index or a skiplist node id, -1 for none.
 * Positions stay valid until the next removal. Members cross this API as bytes (request
 * arguments, no string) or as latin1 strings (one char per byte), never as UTF-8.
 */
import { OVERHEAD, registerType, type StoreObject } from '../object.ts';
import { TYPE_ZSET } from '../record.ts';
import { formatDouble17g } from '../../protocol/numbers.ts';
import type { RespWriter } from '../../protocol/writer.ts';
import { latin1, Listpack } from './zset-listpack.ts';
import { SkipList } from './skiplist.ts';
import { ByteTable } from './byte-table.ts';
import { writeLatin1 } from './latin1.ts';
import { lexGteMin, lexLteMax, lteMax, type LexRange, type ScoreRange } from './zset-range.ts';

export const ZSET_MAX_LISTPACK_ENTRIES = 128;
export const ZSET_MAX_LISTPACK_VALUE = 64;

/** zsetAdd input flags. */
export const ZADD_INCR = 1;
export const ZADD_NX = 2;
export const ZADD_XX = 4;
export const ZADD_GT = 8;
export const ZADD_LT = 16;
/** zsetAdd output flags. */
export const ZADD_NAN = 1;
export const ZADD_ADDED = 2;
export const ZADD_UPDATED = 4;
export const ZADD_NOP = 8;

/** Approximate heap cost of a V8 one-byte string beyond its characters. */
const STRING_HEADER = 16;

/** A node id as the 4 value bytes of its member's ByteTable entry (little-endian). */
const idBytes = new Uint8Array(4);
function putId(x: number): Uint8Array {
  idBytes[0] = x;
  idBytes[1] = x >>> 8;
  idBytes[2] = x >>> 16;
  idBytes[3] = x >>> 24;
  return idBytes;
}

function idOf(t: ByteTable, i: number): number {
  const d = t.data;
  const o = t.valOff(i);
  return d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
}

/** Members given as latin1 strings are written here for a ByteTable lookup. */
let sb = Buffer.alloc(256);
function strBytes(s: string): number {
  if (s.length > sb.length) sb = Buffer.alloc(s.length * 2);
  return writeLatin1(sb, 0, s);
}

export class ZSet implements StoreObject {
  readonly type = TYPE_ZSET;
  lp: Listpack | null;
  sl: SkipList | null = null;
  /** Skiplist encoding: member bytes → node id. */
  map: ByteTable | null = null;
  /** The member's score after the last add() (ZADD INCR / ZINCRBY reply). */
  newScore = 0;

  constructor(skiplist = false) {
    this.lp = skiplist ? null : new Listpack();
    if (skiplist) {
      this.sl = new SkipList();
      this.map = new ByteTable();
    }
  }

  get size(): number {
    return this.lp !== null ? this.lp.n : this.sl!.length;
  }

  encoding(): string {
    return this.lp !== null ? 'listpack' : 'skiplist';
  }

  bytes(): number {
    if (this.lp !== null) return OVERHEAD.object + 3 * OVERHEAD.buffer + this.lp.bytes();
    const sl = this.sl!;
    return (
      2 * OVERHEAD.object +
      2 * OVERHEAD.buffer +
      sl.arrayBytes() +
      sl.memberBytes +
      sl.length * STRING_HEADER +
      this.map!.bytes()
    );
  }

  clone(): StoreObject {
    if (this.lp !== null) {
      const z = new ZSet();
      const lp = z.lp!;
      lp.n = this.lp.n;
      lp.scores = this.lp.scores.slice();
      lp.offs = this.lp.offs.slice();
      lp.data = this.lp.data.slice();
      return z;
    }
    const ids = this.positions();
    return ZSet.build(
      ids.length,
      (k) => this.sl!.scoreOf(ids[k]!),
      (k) => this.sl!.eleOf(ids[k]!),
      true,
    );
  }

  dump(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let p = this.first(); p !== -1; p = this.next(p)) {
      out.push(
        Buffer.from(this.memberAt(p), 'latin1'),
        Buffer.from(formatDouble17g(this.scoreAt(p)), 'latin1'),
      );
    }
    return out;
  }

  /** Every position in rank order. */
  private positions(): Int32Array {
    const ids = new Int32Array(this.size);
    let k = 0;
    for (let p = this.first(); p !== -1; p = this.next(p)) ids[k++] = p;
    return ids;
  }

  /**
   * A set from n entries already in (score, member) order: listpack when they fit, as Redis's
   * zsetConvertToListpackIfNeeded decides for stored results; `forceSkiplist` for clones.
   */
  static build(
    n: number,
    scoreOf: (i: number) => number,
    eleOf: (i: number) => string,
    forceSkiplist = false,
  ): ZSet {
    let fits = !forceSkiplist && n <= ZSET_MAX_LISTPACK_ENTRIES;
    for (let i = 0; fits && i < n; i++) if (eleOf(i).length > ZSET_MAX_LISTPACK_VALUE) fits = false;
    if (fits) {
      const z = new ZSet();
      for (let i = 0; i < n; i++) z.lp!.appendStr(eleOf(i), scoreOf(i));
      return z;
    }
    const z = new ZSet(true);
    z.adoptSkiplist(SkipList.fromSorted(n, scoreOf, eleOf));
    return z;
  }

  private adoptSkiplist(sl: SkipList): void {
    const map = new ByteTable();
    for (let x = sl.first(); x !== 0; x = sl.next(x)) {
      const n = strBytes(sl.eleOf(x));
      // Members of a skiplist are distinct: find() only hashes for insert().
      map.find(sb, 0, n);
      map.insert(sb, 0, n, putId(x), 0, 4);
    }
    this.sl = sl;
    this.map = map;
    this.lp = null;
  }

  /** listpack → skiplist (zsetConvert). */
  convert(): void {
    const lp = this.lp;
    if (lp === null) return;
    this.adoptSkiplist(
      SkipList.fromSorted(
        lp.n,
        (i) => lp.scores[i]!,
        (i) => lp.member(i),
      ),
    );
  }

  private afterRemoval(): void {
    if (this.sl !== null && this.sl.sparse()) this.adoptSkiplist(this.sl.compact());
  }

  // ---- positions ----

  first(): number {
    if (this.lp !== null) return this.lp.n > 0 ? 0 : -1;
    const x = this.sl!.first();
    return x === 0 ? -1 : x;
  }

  last(): number {
    if (this.lp !== null) return this.lp.n - 1;
    const x = this.sl!.tail;
    return x === 0 ? -1 : x;
  }

  next(p: number): number {
    if (this.lp !== null) return p + 1 < this.lp.n ? p + 1 : -1;
    const x = this.sl!.next(p);
    return x === 0 ? -1 : x;
  }

  prev(p: number): number {
    if (this.lp !== null) return p - 1;
    const x = this.sl!.prev(p);
    return x === 0 ? -1 : x;
  }

  /** Position of the 0-based rank (in range). */
  atRank(r: number): number {
    if (this.lp !== null) return r;
    return this.sl!.byRank(r + 1);
  }

  /** 0-based rank of a position. */
  rankOf(p: number): number {
    if (this.lp !== null) return p;
    return this.sl!.rank(p) - 1;
  }

  scoreAt(p: number): number {
    return this.lp !== null ? this.lp.scores[p]! : this.sl!.scoreOf(p);
  }

  memberAt(p: number): string {
    return this.lp !== null ? this.lp.member(p) : this.sl!.eleOf(p);
  }

  memberLen(p: number): number {
    return this.lp !== null ? this.lp.memberLen(p) : this.sl!.eleOf(p).length;
  }

  /** The member at p as a bulk reply. */
  writeMember(out: RespWriter, p: number): void {
    if (this.lp !== null) {
      const o = this.lp.offs[p]!;
      out.bulk(this.lp.data, o, this.lp.offs[p + 1]! - o);
    } else writeLatin1Bulk(out, this.sl!.eleOf(p));
  }

  findBytes(u8: Uint8Array, off: number, len: number): number {
    if (this.lp !== null) return this.lp.find(u8, off, len);
    const t = this.map!;
    const i = t.find(u8, off, len);
    return i < 0 ? -1 : idOf(t, i);
  }

  findStr(s: string): number {
    if (this.lp !== null) return this.lp.findStr(s);
    return this.findBytes(sb, 0, strBytes(s));
  }

  // ---- writes ----

  /**
   * zsetAdd: adds or updates a member with Redis's NX/XX/GT/LT/INCR rules; returns ZADD_* out
   * flags (ZADD_NAN when an increment produced NaN: nothing changed). The resulting score is in
   * newScore. May convert a listpack to a skiplist.
   */
  add(u8: Uint8Array, off: number, len: number, score: number, flags: number): number {
    if (score !== score) return ZADD_NAN;
    if (this.lp !== null) {
      const lp = this.lp;
      const i = lp.find(u8, off, len);
      if (i >= 0) {
        const cur = lp.scores[i]!;
        const r = this.updateRule(cur, score, flags);
        if (r !== 0) return r;
        if (this.newScore !== cur) {
          lp.removeRange(i, i + 1);
          lp.insert(u8, off, len, this.newScore);
          return ZADD_UPDATED;
        }
        return 0;
      }
      if (flags & ZADD_XX) return ZADD_NOP;
      if (lp.n + 1 <= ZSET_MAX_LISTPACK_ENTRIES && len <= ZSET_MAX_LISTPACK_VALUE) {
        lp.insert(u8, off, len, score);
        this.newScore = score;
        return ZADD_ADDED;
      }
      this.convert();
    }
    return this.addSl(u8, off, len, null, score, flags);
  }

  /** add() for a member given as a latin1 string. */
  addStr(e: string, score: number, flags: number): number {
    if (score !== score) return ZADD_NAN;
    if (this.lp !== null) {
      if (e.length <= ZSET_MAX_LISTPACK_VALUE) {
        const b = Buffer.from(e, 'latin1');
        return this.add(b, 0, b.length, score, flags);
      }
      if (this.lp.findStr(e) < 0 && flags & ZADD_XX) return ZADD_NOP;
      this.convert();
    }
    return this.addSl(sb, 0, strBytes(e), e, score, flags);
  }

  /** add() on a skiplist: the member is u8[off, off+len), and `e` when already a string. */
  private addSl(
    u8: Uint8Array,
    off: number,
    len: number,
    e: string | null,
    score: number,
    flags: number,
  ): number {
    const sl = this.sl!;
    const map = this.map!;
    const i = map.find(u8, off, len);
    if (i >= 0) {
      const x = idOf(map, i);
      const cur = sl.scoreOf(x);
      const r = this.updateRule(cur, score, flags);
      if (r !== 0) return r;
      if (this.newScore !== cur) {
        sl.updateScore(x, this.newScore); // the node keeps its id: map unchanged
        return ZADD_UPDATED;
      }
      return 0;
    }
    if (flags & ZADD_XX) return ZADD_NOP;
    // insert() follows the find() miss of these bytes (the skiplist insert does not touch map).
    map.insert(u8, off, len, putId(sl.insert(score, e ?? latin1(u8, off, len))), 0, 4);
    this.newScore = score;
    return ZADD_ADDED;
  }

  /** NX/INCR/GT/LT for an existing member; sets newScore, non-zero to return early. */
  private updateRule(cur: number, score: number, flags: number): number {
    if (flags & ZADD_NX) return ZADD_NOP;
    if (flags & ZADD_INCR) {
      score += cur;
      if (score !== score) return ZADD_NAN;
    }
    if ((flags & ZADD_LT && score >= cur) || (flags & ZADD_GT && score <= cur)) return ZADD_NOP;
    this.newScore = score;
    return 0;
  }

  /** Removes a member; false when absent. */
  removeBytes(u8: Uint8Array, off: number, len: number): boolean {
    const p = this.findBytes(u8, off, len);
    if (p < 0) return false;
    this.removeAt(p);
    return true;
  }

  removeAt(p: number): void {
    if (this.lp !== null) this.lp.removeRange(p, p + 1);
    else {
      this.forget(this.sl!.eleOf(p));
      this.sl!.delete(p);
      this.afterRemoval();
    }
  }

  private readonly forget = (e: string): void => {
    const t = this.map!;
    const i = t.find(sb, 0, strBytes(e));
    if (i >= 0) t.removeAt(i);
  };

  /** Removes 0-based ranks start..end (inclusive, in range). */
  deleteRangeByRank(start: number, end: number): number {
    if (this.lp !== null) {
      this.lp.removeRange(start, end + 1);
      return end - start + 1;
    }
    const n = this.sl!.deleteRangeByRank(start + 1, end + 1, this.forget);
    this.afterRemoval();
    return n;
  }

  deleteRangeByScore(r: ScoreRange): number {
    if (this.lp !== null) {
      const i = this.lp.firstInRange(r);
      if (i < 0) return 0;
      let j = i;
      while (j < this.lp.n && lteMax(this.lp.scores[j]!, r)) j++;
      this.lp.removeRange(i, j);
      return j - i;
    }
    const n = this.sl!.deleteRangeByScore(r, this.forget);
    this.afterRemoval();
    return n;
  }

  deleteRangeByLex(r: LexRange): number {
    if (this.lp !== null) {
      const i = this.lp.firstInLex(r);
      if (i < 0) return 0;
      let j = i;
      while (j < this.lp.n && this.lp.lexLteMax(j, r)) j++;
      this.lp.removeRange(i, j);
      return j - i;
    }
    const n = this.sl!.deleteRangeByLex(r, this.forget);
    this.afterRemoval();
    return n;
  }

  // ---- ranges ----

  firstInRange(r: ScoreRange): number {
    if (this.lp !== null) return this.lp.firstInRange(r);
    const x = this.sl!.firstInRange(r);
    return x === 0 ? -1 : x;
  }

  lastInRange(r: ScoreRange): number {
    if (this.lp !== null) return this.lp.lastInRange(r);
    const x = this.sl!.lastInRange(r);
    return x === 0 ? -1 : x;
  }

  firstInLex(r: LexRange): number {
    if (this.lp !== null) return this.lp.firstInLex(r);
    const x = this.sl!.firstInLex(r);
    return x === 0 ? -1 : x;
  }

  lastInLex(r: LexRange): number {
    if (this.lp !== null) return this.lp.lastInLex(r);
    const x = this.sl!.lastInLex(r);
    return x === 0 ? -1 : x;
  }

  lexGteMin(p: number, r: LexRange): boolean {
    return this.lp !== null ? this.lp.lexGteMin(p, r) : lexGteMin(this.sl!.eleOf(p), r);
  }

  lexLteMax(p: number, r: LexRange): boolean {
    return this.lp !== null ? this.lp.lexLteMax(p, r) : lexLteMax(this.sl!.eleOf(p), r);
  }
}

/** A latin1 string as a bulk reply (RespWriter.bulkString would write UTF-8). */
export function writeLatin1Bulk(out: RespWriter, s: string): void {
  const n = s.length;
  out.ensure(n + 24);
  const b = out.buf;
  let p = out.pos;
  b[p++] = 36;
  const digits = String(n);
  for (let i = 0; i < digits.length; i++) b[p++] = digits.charCodeAt(i);
  b[p++] = 13;
  b[p++] = 10;
  if (n <= 32) for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
  else p += b.write(s, p, n, 'latin1');
  b[p++] = 13;
  b[p++] = 10;
  out.pos = p;
}

/** "%.17g" text back to a double ("inf" and "-inf" included). */
export function parseDumpScore(s: string): number {
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

registerType(TYPE_ZSET, (items) => {
  const n = items.length >> 1;
  const eles: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = items[2 * i]!;
    const s = items[2 * i + 1]!;
    eles.push(latin1(m, 0, m.length));
    scores.push(parseDumpScore(latin1(s, 0, s.length)));
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => scores[a]! - scores[b]! || (eles[a]! < eles[b]! ? -1 : eles[a]! > eles[b]! ? 1 : 0));
  return ZSet.build(
    n,
    (i) => scores[order[i]!]!,
    (i) => eles[order[i]!]!,
  );
});
