/**
 * The hashtable encoding's storage: an open-addressing (linear probing) index over entries
 * whose key and value bytes live in ONE growable byte store. Lookups hash and compare the
 * argument bytes in place, so a command never builds a JS string per field (a latin1 string
 * plus a Map lookup cost ~1 µs per op on a big hash; this is a few hundred ns).
 *
 *  - entries are dense, 0..size-1, in `meta` (3 × u32 each: offset in `data`, key length,
 *    value length; the value follows its key). Removing entry i moves the last one into i, so
 *    indexes give O(1) random picks and a scan cursor that survives deletions (walk down).
 *  - `tab` holds 2 × i32 per slot (entry index + 1, 0 = empty; the key's hash) so most probe
 *    misses never touch the bytes. Deletion shifts the run back (no tombstones); the table
 *    doubles at 3/4 full and halves below 1/8. Resizing is incremental like Redis's dict (and
 *    keytable.ts): the new index is allocated empty, the old one stays in `old` and each write
 *    moves `tuning.migrateStep` of its slots over (from the stored hashes, no byte re-hashing),
 *    so no single HSET pays for re-placing every entry (15-25 ms at 800k entries, measured).
 *    Moved or deleted slots of `old` become MOVED marks to keep its probe runs intact; lookups
 *    try `tab`, then `old`. Only writes migrate, so bytes() changes only in commands that
 *    re-account it (a table left mid-migration keeps both arrays, counted, until its next
 *    writes). Entry indexes never move in a migration: scan cursors, dump order, random picks
 *    are unaffected.
 *  - `meta` and `data` still grow by copying (×1.5): at 1M entries that copy is the slowest
 *    insert left (~7 ms for a 15 MB store, ~2.5 ms for meta, mostly page faults of the new array).
 *  - `data` is append-mostly: a longer value moves its entry to the end, removals leave holes.
 *    Holes are reclaimed by compacting once they are more than half of the store.
 */
import { hashBytes } from '../keytable.ts';
import { OVERHEAD } from '../object.ts';
import { releaseBuffer } from '../arena.ts';

const MIN_CAP = 8;
/**
 * Old slots moved per write while migrating. A growth (C → 2C slots at 3C/4 entries) must end
 * before 3C/4 more inserts fill the new index, a shrink (C → C/2) before C/4 inserts: any step
 * over 4 does (a smaller one, set by tests, finishes the migration before growing again); a
 * bigger one shortens the window in which misses probe both arrays.
 */
export const tuning = { migrateStep: 64 };
/** Old slot marker for an entry moved to the new index or deleted (keeps probe runs intact). */
const MOVED = -1;
const NO_BYTES = new Uint8Array(0);
const NO_META = new Uint32Array(0);
const NO_TAB = new Int32Array(0);

/** Fields and values in these tables are small: a byte loop beats a native copy call. */
function copy(src: Uint8Array, off: number, len: number, dst: Uint8Array, at: number): void {
  if (len > 64) {
    dst.set(src.subarray(off, off + len), at);
    return;
  }
  for (let i = 0; i < len; i++) dst[at + i] = src[off + i]!;
}

export class ByteTable {
  size = 0;
  data: Uint8Array = NO_BYTES;
  /** Bytes of `data` in use (live entries and holes). */
  private used = 0;
  /** Bytes of live keys and values. */
  private live = 0;
  meta: Uint32Array = NO_META;
  private tab: Int32Array = NO_TAB;
  private mask = -1;
  /** The index being migrated from (NO_TAB when none), its mask, and the next slot to move. */
  private old: Int32Array = NO_TAB;
  private oldMask = -1;
  private migratePos = 0;
  /** Hash of the key the last find() looked for (insert() after a miss reuses it). */
  private lastHash = 0;

  /** Approximate heap bytes: the three arrays as allocated (O(1)). */
  bytes(): number {
    let b = 0;
    if (this.data.length > 0) b += OVERHEAD.buffer + this.data.length;
    if (this.meta.length > 0) b += OVERHEAD.buffer + this.meta.byteLength;
    if (this.tab.length > 0) b += OVERHEAD.buffer + this.tab.byteLength;
    if (this.old.length > 0) b += OVERHEAD.buffer + this.old.byteLength;
    return b;
  }

  /** Bytes of live keys and values. */
  liveBytes(): number {
    return this.live;
  }

  keyOff(i: number): number {
    return this.meta[3 * i]!;
  }

  keyLen(i: number): number {
    return this.meta[3 * i + 1]!;
  }

  valOff(i: number): number {
    return this.meta[3 * i]! + this.meta[3 * i + 1]!;
  }

  valLen(i: number): number {
    return this.meta[3 * i + 2]!;
  }

  /** Entry index of the key u8[off, off+len), or -1. */
  find(u8: Uint8Array, off: number, len: number): number {
    const h = hashBytes(u8, off, len);
    this.lastHash = h;
    if (this.size === 0) return -1;
    // The current index inline (the hot path), the old one only while migrating.
    const tab = this.tab;
    const meta = this.meta;
    const data = this.data;
    const mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = tab[2 * s]!;
      if (e === 0) break;
      if (tab[2 * s + 1] !== h) continue;
      const i = e - 1;
      if (meta[3 * i + 1] !== len) continue;
      const p = meta[3 * i]!;
      let k = 0;
      while (k < len && data[p + k] === u8[off + k]) k++;
      if (k === len) return i;
    }
    return this.old.length === 0 ? -1 : this.findOld(h, u8, off, len);
  }

  /** True while entries are being moved from an old index to the current one. */
  get migrating(): boolean {
    return this.old.length > 0;
  }

  /** Finishes a running migration (tests; a caller that wants one array). */
  settle(): void {
    while (this.old.length > 0) this.migrate(1 << 20);
  }

  private findOld(h: number, u8: Uint8Array, off: number, len: number): number {
    const tab = this.old;
    const mask = this.oldMask;
    const meta = this.meta;
    const data = this.data;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = tab[2 * s]!;
      if (e === 0) return -1;
      // MOVED slots (old index only) carry their former hash: the e < 0 test is rarely reached.
      if (tab[2 * s + 1] !== h || e < 0) continue;
      const i = e - 1;
      if (meta[3 * i + 1] !== len) continue;
      const p = meta[3 * i]!;
      let k = 0;
      while (k < len && data[p + k] === u8[off + k]) k++;
      if (k === len) return i;
    }
  }

  /** Adds a key that find() just reported absent (same bytes), with its value; returns its index. */
  insert(ku8: Uint8Array, koff: number, klen: number, vu8: Uint8Array, voff: number, vlen: number): number {
    const i = this.size;
    // Counting every entry against the new index (not just those moved yet) keeps room for all.
    if ((i + 1) * 4 > this.tab.length * 1.5) this.resize(Math.max(MIN_CAP, (this.mask + 1) * 2));
    if (3 * (i + 1) > this.meta.length) this.growMeta(i + 1);
    const p = this.reserve(klen + vlen);
    copy(ku8, koff, klen, this.data, p);
    copy(vu8, voff, vlen, this.data, p + klen);
    this.used = p + klen + vlen;
    this.live += klen + vlen;
    const meta = this.meta;
    meta[3 * i] = p;
    meta[3 * i + 1] = klen;
    meta[3 * i + 2] = vlen;
    this.place(i, this.lastHash);
    this.size = i + 1;
    if (this.old.length > 0) this.migrate(tuning.migrateStep);
    return i;
  }

  /** Replaces entry i's value. */
  setValue(i: number, vu8: Uint8Array, voff: number, vlen: number): void {
    const meta = this.meta;
    let p = meta[3 * i]!;
    const klen = meta[3 * i + 1]!;
    const old = meta[3 * i + 2]!;
    this.live += vlen - old;
    if (vlen > old) {
      if (p + klen + old === this.used) {
        // The last entry in the store grows in place.
        this.reserve(vlen - old);
      } else {
        // Move the entry to the end: reserve() may reallocate, but offsets stay valid.
        const q = this.reserve(klen + vlen);
        this.data.copyWithin(q, p, p + klen);
        p = q;
        meta[3 * i] = p;
      }
      this.used = p + klen + vlen;
    }
    copy(vu8, voff, vlen, this.data, p + klen);
    meta[3 * i + 2] = vlen;
    this.maybeCompact();
  }

  /** Removes entry i; the last entry takes its index. */
  removeAt(i: number): void {
    const meta = this.meta;
    const last = this.size - 1;
    this.unplace(i, hashBytes(this.data, meta[3 * i]!, meta[3 * i + 1]!));
    this.live -= meta[3 * i + 1]! + meta[3 * i + 2]!;
    if (i < last) {
      const h = hashBytes(this.data, meta[3 * last]!, meta[3 * last + 1]!);
      const s = this.slotOf(this.tab, this.mask, last, h);
      if (s >= 0) this.tab[2 * s] = i + 1;
      else this.old[2 * this.slotOf(this.old, this.oldMask, last, h)] = i + 1;
      meta[3 * i] = meta[3 * last]!;
      meta[3 * i + 1] = meta[3 * last + 1]!;
      meta[3 * i + 2] = meta[3 * last + 2]!;
    }
    this.size = last;
    if (last === 0) {
      this.clear();
      return;
    }
    if (this.old.length > 0) this.migrate(tuning.migrateStep);
    else if (this.mask + 1 > MIN_CAP && last * 8 < this.mask + 1) this.resize((this.mask + 1) >> 1);
    if (3 * last * 4 < this.meta.length && this.meta.length > 3 * MIN_CAP)
      this.meta = this.meta.slice(0, 3 * last * 2);
    this.maybeCompact();
  }

  clone(): ByteTable {
    const t = new ByteTable();
    t.size = this.size;
    t.used = this.used;
    t.live = this.live;
    t.data = this.data.slice(0, this.used);
    t.meta = this.meta.slice(0, 3 * this.size);
    t.tab = this.tab.slice();
    t.mask = this.mask;
    if (this.old.length > 0) {
      t.old = this.old.slice();
      t.oldMask = this.oldMask;
      t.migratePos = this.migratePos;
    }
    return t;
  }

  private clear(): void {
    this.data = NO_BYTES;
    this.meta = NO_META;
    this.tab = NO_TAB;
    this.mask = -1;
    this.dropOld();
    this.used = 0;
    this.live = 0;
  }

  /** Room for `n` more bytes at the end of `data`; returns where they start. */
  private reserve(n: number): number {
    const at = this.used;
    if (at + n > this.data.length) {
      const next = new Uint8Array(Math.max(at + n, Math.floor(this.data.length * 1.5), 16));
      next.set(this.data.subarray(0, at));
      this.data = next;
    }
    return at;
  }

  private growMeta(entries: number): void {
    const next = new Uint32Array(3 * Math.max(entries, Math.floor((this.meta.length / 3) * 1.5), 2));
    next.set(this.meta);
    this.meta = next;
  }

  /** Rewrites the store without holes, in entry order, once holes are most of it. */
  private maybeCompact(): void {
    if (this.used < 512 || this.live * 2 >= this.used) return;
    const meta = this.meta;
    const src = this.data;
    const dst = new Uint8Array(Math.max(64, this.live + (this.live >> 2)));
    let w = 0;
    for (let i = 0; i < this.size; i++) {
      const p = meta[3 * i]!;
      const n = meta[3 * i + 1]! + meta[3 * i + 2]!;
      copy(src, p, n, dst, w);
      meta[3 * i] = w;
      w += n;
    }
    this.data = dst;
    this.used = w;
  }

  /** Puts entry i in the first free slot of its run. */
  private place(i: number, h: number): void {
    const tab = this.tab;
    const mask = this.mask;
    let s = h & mask;
    while (tab[2 * s] !== 0) s = (s + 1) & mask;
    tab[2 * s] = i + 1;
    tab[2 * s + 1] = h;
  }

  /** The slot of `tab` that holds entry i (whose key hashes to h), or -1. */
  private slotOf(tab: Int32Array, mask: number, i: number, h: number): number {
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = tab[2 * s]!;
      if (e === i + 1) return s;
      if (e === 0) return -1;
    }
  }

  /** Empties entry i's slot: a MOVED mark in the old index, else a backward shift of its run. */
  private unplace(i: number, h: number): void {
    const tab = this.tab;
    const mask = this.mask;
    let hole = this.slotOf(tab, mask, i, h);
    if (hole < 0) {
      this.old[2 * this.slotOf(this.old, this.oldMask, i, h)] = MOVED;
      return;
    }
    for (let j = (hole + 1) & mask; tab[2 * j] !== 0; j = (j + 1) & mask) {
      const home = tab[2 * j + 1]! & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      tab[2 * hole] = tab[2 * j]!;
      tab[2 * hole + 1] = tab[2 * j + 1]!;
      hole = j;
    }
    tab[2 * hole] = 0;
  }

  /**
   * Switches to an empty index of `cap` slots; the entries follow a few slots per write.
   * A small index (or a migration still running: probing needs the new index's empty slots)
   * is moved at once.
   */
  private resize(cap: number): void {
    this.settle();
    const old = this.tab;
    this.tab = new Int32Array(2 * cap);
    const oldMask = this.mask;
    this.mask = cap - 1;
    if (old.length === 0) return;
    this.old = old;
    this.oldMask = oldMask;
    this.migratePos = 0;
    if (oldMask < tuning.migrateStep * 4) this.settle();
  }

  /** Moves the next `n` slots of the old index to the current one. */
  private migrate(n: number): void {
    const old = this.old;
    const end = Math.min(this.oldMask + 1, this.migratePos + n);
    let p = this.migratePos;
    for (; p < end; p++) {
      const e = old[2 * p]!;
      if (e > 0) {
        this.place(e - 1, old[2 * p + 1]!);
        old[2 * p] = MOVED;
      }
    }
    this.migratePos = p;
    if (p > this.oldMask) this.dropOld();
  }

  /** Returns the old index's memory now: V8 frees ArrayBuffers only on a major GC. */
  private dropOld(): void {
    if (this.old.length > 0) releaseBuffer(this.old.buffer);
    this.old = NO_TAB;
    this.oldMask = -1;
    this.migratePos = 0;
  }
}
