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
 *    doubles at 3/4 full and halves below 1/8 (a full rehash from the stored hashes: O(n),
 *    amortised O(1), no byte re-hashing).
 *  - `data` is append-mostly: a longer value moves its entry to the end, removals leave holes.
 *    Holes are reclaimed by compacting once they are more than half of the store.
 */
import { hashBytes } from '../keytable.ts';
import { OVERHEAD } from '../object.ts';

const MIN_CAP = 8;
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
  /** Hash of the key the last find() looked for (insert() after a miss reuses it). */
  private lastHash = 0;

  /** Approximate heap bytes: the three arrays as allocated (O(1)). */
  bytes(): number {
    let b = 0;
    if (this.data.length > 0) b += OVERHEAD.buffer + this.data.length;
    if (this.meta.length > 0) b += OVERHEAD.buffer + this.meta.byteLength;
    if (this.tab.length > 0) b += OVERHEAD.buffer + this.tab.byteLength;
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
    const tab = this.tab;
    const meta = this.meta;
    const data = this.data;
    const mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = tab[2 * s]!;
      if (e === 0) return -1;
      if (tab[2 * s + 1] !== h) continue;
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
    if ((i + 1) * 4 > this.tab.length * 1.5) this.rehash(Math.max(MIN_CAP, (this.mask + 1) * 2));
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
      const s = this.slotOf(last, hashBytes(this.data, meta[3 * last]!, meta[3 * last + 1]!));
      this.tab[2 * s] = i + 1;
      meta[3 * i] = meta[3 * last]!;
      meta[3 * i + 1] = meta[3 * last + 1]!;
      meta[3 * i + 2] = meta[3 * last + 2]!;
    }
    this.size = last;
    if (last === 0) {
      this.clear();
      return;
    }
    if (this.mask + 1 > MIN_CAP && last * 8 < this.mask + 1) this.rehash((this.mask + 1) >> 1);
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
    return t;
  }

  private clear(): void {
    this.data = NO_BYTES;
    this.meta = NO_META;
    this.tab = NO_TAB;
    this.mask = -1;
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
    if (this.used < 4096 || this.live * 2 >= this.used) return;
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

  /** The slot that holds entry i (whose key hashes to h). */
  private slotOf(i: number, h: number): number {
    const tab = this.tab;
    const mask = this.mask;
    let s = h & mask;
    while (tab[2 * s] !== i + 1) s = (s + 1) & mask;
    return s;
  }

  /** Empties entry i's slot, shifting later members of the run back (no tombstones). */
  private unplace(i: number, h: number): void {
    const tab = this.tab;
    const mask = this.mask;
    let hole = this.slotOf(i, h);
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

  private rehash(cap: number): void {
    const old = this.tab;
    this.tab = new Int32Array(2 * cap);
    this.mask = cap - 1;
    for (let s = 0; s < old.length; s += 2) {
      const e = old[s]!;
      if (e !== 0) this.place(e - 1, old[s + 1]!);
    }
  }
}
