import { releaseBuffer, type Arena } from './arena.ts';
import { KEY_LEN, KEY_OFF } from './record.ts';

/**
 * Open-addressing (linear probing) index of one database: key bytes → record handle.
 *
 * Two Int32Arrays per table: `slots` holds the handle (0 empty, -1 tombstone) and `hashes`
 * a hash fragment so most probe misses never touch record memory. Growth is incremental like
 * Redis's dict: a bigger table is allocated and the old one is migrated a few dozen slots per
 * write, so no single command pays for a full rehash. Moved slots become tombstones in the old
 * table to keep its probe chains intact while lookups still consult it.
 */

const EMPTY = 0;
const TOMB = -1;
const MIN_CAP = 16;
const MIGRATE_STEP = 64;

/**
 * Bytes of index tables dropped (after a rehash or a clear) and not yet collected: V8 only
 * returns ArrayBuffer memory on a major GC, which an idle shard never triggers, so the shard
 * asks for one when this grows (see workers/shard.ts). Tables are freed explicitly (free()
 * below), so this only grows on a runtime without ArrayBuffer.prototype.transfer.
 */
export const dropped = { bytes: 0 };

export function hashBytes(u8: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ u8[off + i]!, 0x01000193);
  // Final avalanche so linear probing on the low bits spreads keys with shared prefixes.
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  return h | 0;
}

export class KeyTable {
  slots: Int32Array;
  hashes: Int32Array;
  mask: number;
  /** Live keys. */
  size = 0;
  private filled = 0; // live + tombstones in `slots`
  private old: Int32Array | null = null;
  private oldHashes: Int32Array | null = null;
  private oldMask = 0;
  private migratePos = 0;
  /** No shrinking below this while a reserve() is filled (cleared by the first removal). */
  private floor = MIN_CAP;
  /** Bumped whenever `slots` is replaced (resize, clear): a linear walk() starts over then. */
  layout = 0;
  // Where the last successful find() matched, for in-place replace/remove.
  private foundOld = false;
  private foundSlot = -1;

  constructor(capacity = MIN_CAP) {
    let cap = MIN_CAP;
    while (cap < capacity) cap *= 2;
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.slots.length + (this.old ? this.old.length : 0);
  }

  /** Bytes of index memory (both tables while migrating). */
  get bytes(): number {
    return this.capacity * 8;
  }

  get migrating(): boolean {
    return this.old !== null;
  }

  /** Handle of the record with this key, or 0. */
  find(arena: Arena, u8: Uint8Array, off: number, len: number, hash: number): number {
    let h = probe(arena, this.slots, this.hashes, this.mask, u8, off, len, hash);
    if (h >= 0) {
      this.foundOld = false;
      this.foundSlot = h;
      return this.slots[h]!;
    }
    if (this.old !== null) {
      h = probe(arena, this.old, this.oldHashes!, this.oldMask, u8, off, len, hash);
      if (h >= 0) {
        this.foundOld = true;
        this.foundSlot = h;
        return this.old[h]!;
      }
    }
    return 0;
  }

  /** Point the slot found by the last find() at a new handle (record reallocated). */
  replaceFound(handle: number): void {
    if (this.foundOld) this.old![this.foundSlot] = handle;
    else this.slots[this.foundSlot] = handle;
  }

  /** Remove the key found by the last find(). */
  removeFound(): void {
    if (this.foundOld) this.old![this.foundSlot] = TOMB;
    else this.slots[this.foundSlot] = TOMB;
    this.size--;
    this.foundSlot = -1;
    this.floor = MIN_CAP;
    this.afterWrite();
  }

  /**
   * Size an empty table for `n` keys at once (loading a snapshot whose key count is known):
   * no incremental rehashes while it fills, shorter probe runs on the way.
   */
  reserve(n: number): void {
    if (this.size > 0 || this.old !== null) return;
    let cap = MIN_CAP;
    // The capacity growing one insert at a time would end at (no more memory than that).
    while (cap * 3 < n * 4 + 4) cap *= 2;
    if (cap <= this.slots.length) return;
    this.floor = cap;
    free(this.slots);
    free(this.hashes);
    this.layout++;
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
    this.filled = 0;
  }

  /** Insert a key known to be absent. */
  insert(handle: number, hash: number): void {
    if ((this.filled + 1) * 4 > this.slots.length * 3) {
      // A migration still running when the new table fills up (a burst of inserts right
      // after a shrink) is finished first: probing needs empty slots to terminate.
      if (this.old !== null) this.settle();
      this.startResize();
    }
    const slots = this.slots;
    let i = hash & this.mask;
    while (true) {
      const s = slots[i]!;
      if (s === EMPTY || s === TOMB) {
        if (s === EMPTY) this.filled++;
        slots[i] = handle;
        this.hashes[i] = hash;
        break;
      }
      i = (i + 1) & this.mask;
    }
    this.size++;
    this.afterWrite();
  }

  /** Visit every live handle. The callback must not modify the table. */
  forEach(fn: (handle: number) => void): void {
    visit(this.slots, fn);
    if (this.old !== null) visit(this.old, fn);
  }

  /** Finish any migration now (SCAN and RANDOMKEY want one stable table). */
  settle(): void {
    while (this.old !== null) this.migrate(1 << 20);
  }

  /**
   * SCAN step: visits keys by home bucket (hash & mask), buckets in reverse-binary cursor order
   * like Redis's dictScan, so every key present for the whole scan is returned even when the
   * table grows or shrinks between calls (duplicates are possible, as in Redis). With linear
   * probing a key with home bucket b sits somewhere in the run of occupied slots starting at
   * b, so each step walks that run and keeps the keys whose home is b.
   * Returns the next cursor, 0 when the scan is complete.
   */
  scan(cursor: number, count: number, fn: (handle: number) => void): number {
    this.settle();
    if (this.size === 0) return 0;
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let v = cursor >>> 0;
    let seen = 0;
    do {
      const bucket = v & mask;
      for (let i = bucket; slots[i] !== EMPTY; i = (i + 1) & mask) {
        const s = slots[i]!;
        if (s > 0 && (hashes[i]! & mask) === bucket) {
          fn(s);
          seen++;
        }
      }
      // Increment the reversed cursor: the bits above the mask are set so the carry skips them.
      v = (v | ~mask) >>> 0;
      v = reverseBits(v);
      v = (v + 1) >>> 0;
      v = reverseBits(v);
    } while (v !== 0 && seen < count);
    return v;
  }

  /**
   * Linear walk in slot order (snapshots): visits the live handles of slots [pos, …) until
   * about `count` were visited; returns the next position, 0 once the end was reached. A
   * migration is finished first, so one array holds every key; within one array a key never
   * changes slot (deletions leave tombstones), so a walk spread over many calls sees every key
   * present throughout it as long as `layout` is unchanged — when it changed, start over at 0
   * (the caller skips what it already saw). Sequential, unlike scan(): no cache miss per
   * bucket, no re-walk of probe runs (measured over 1M keys: ~25 ms against ~500 ms).
   */
  walk(pos: number, count: number, fn: (handle: number) => void): number {
    this.settle();
    const slots = this.slots;
    const end = slots.length;
    let seen = 0;
    let i = pos;
    for (; i < end && seen < count; i++) {
      const s = slots[i]!;
      if (s > 0) {
        fn(s);
        seen++;
      }
    }
    return i >= end ? 0 : i;
  }

  /** A uniformly chosen live handle, or 0 when empty. */
  random(): number {
    if (this.size === 0) return 0;
    this.settle();
    const slots = this.slots;
    for (let tries = 0; tries < 64; tries++) {
      const s = slots[(Math.random() * slots.length) | 0]!;
      if (s > 0) return s;
    }
    let i = (Math.random() * slots.length) | 0;
    while (slots[i]! <= 0) i = (i + 1) & this.mask;
    return slots[i]!;
  }

  /**
   * Eviction sampling (Redis's dictGetSomeKeys): up to `n` live handles into `out` from a run of
   * consecutive slots starting at a random one, in both tables while a rehash is in progress.
   * Neighbouring slots hold unrelated keys (positions are hash-derived), so a run is as good a
   * sample as scattered probes and touches fewer cache lines. Walks at most `maxSteps` slots
   * per table; returns how many handles were written.
   */
  sample(out: Int32Array, n: number, maxSteps: number): number {
    if (this.size === 0) return 0;
    let got = sampleRun(this.slots, this.mask, out, 0, n, maxSteps);
    if (this.old !== null && got < n) got = sampleRun(this.old, this.oldMask, out, got, n, maxSteps);
    return got;
  }

  /**
   * Hand the slot arrays over for freeing in steps (lazy FLUSHDB) and leave the table empty:
   * the caller walks the returned arrays and frees the records they point at.
   */
  detach(): Int32Array[] {
    const arrays = this.old !== null ? [this.slots, this.old] : [this.slots];
    free(this.hashes);
    if (this.oldHashes !== null) free(this.oldHashes);
    this.reset();
    return arrays;
  }

  /** Drop everything (records must be freed by the caller first). */
  clear(): void {
    free(this.slots);
    free(this.hashes);
    if (this.old !== null) free(this.old);
    if (this.oldHashes !== null) free(this.oldHashes);
    this.reset();
  }

  private reset(): void {
    this.layout++;
    this.floor = MIN_CAP;
    this.slots = new Int32Array(MIN_CAP);
    this.hashes = new Int32Array(MIN_CAP);
    this.mask = MIN_CAP - 1;
    this.size = 0;
    this.filled = 0;
    this.old = null;
    this.oldHashes = null;
  }

  /** Do a slice of pending migration; the shard calls this when idle. */
  step(): void {
    if (this.old !== null) this.migrate(MIGRATE_STEP * 16);
  }

  private afterWrite(): void {
    if (this.old !== null) this.migrate(MIGRATE_STEP);
    else if (this.slots.length > this.floor && this.size * 8 < this.slots.length) this.startResize();
  }

  private startResize(): void {
    let cap = MIN_CAP;
    while (cap * 3 < this.size * 8 + 8) cap *= 2; // target load ≤ ~37% after resize
    this.old = this.slots;
    this.oldHashes = this.hashes;
    this.oldMask = this.mask;
    this.migratePos = 0;
    this.layout++;
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
    this.filled = 0;
  }

  private migrate(n: number): void {
    const old = this.old!;
    const oldHashes = this.oldHashes!;
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let p = this.migratePos;
    const end = Math.min(old.length, p + n);
    for (; p < end; p++) {
      const s = old[p]!;
      if (s > 0) {
        const hash = oldHashes[p]!;
        let i = hash & mask;
        while (slots[i]! !== EMPTY) i = (i + 1) & mask;
        slots[i] = s;
        hashes[i] = hash;
        this.filled++;
        old[p] = TOMB;
      }
    }
    this.migratePos = p;
    if (p >= old.length) {
      free(old);
      free(oldHashes);
      this.old = null;
      this.oldHashes = null;
    }
  }
}

function probe(
  arena: Arena,
  slots: Int32Array,
  hashes: Int32Array,
  mask: number,
  u8: Uint8Array,
  off: number,
  len: number,
  hash: number,
): number {
  let i = hash & mask;
  while (true) {
    const s = slots[i]!;
    if (s === EMPTY) return -1;
    if (s !== TOMB && hashes[i] === hash && keyEquals(arena, s, u8, off, len)) return i;
    i = (i + 1) & mask;
  }
}

function keyEquals(arena: Arena, h: number, u8: Uint8Array, off: number, len: number): boolean {
  const base = arena.base(h);
  if (arena.i32(h)[(base + KEY_LEN) >> 2] !== len) return false;
  const r = arena.u8(h);
  const k = base + KEY_OFF;
  for (let i = 0; i < len; i++) if (r[k + i] !== u8[off + i]) return false;
  return true;
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

/**
 * Return a dropped table's memory now (releaseBuffer: no waiting for a major GC, which an idle
 * shard never runs and a forced one stalls it); counted in `dropped` only where that fails.
 */
function free(a: Int32Array): void {
  if (a.byteLength > 0 && !releaseBuffer(a.buffer)) dropped.bytes += a.byteLength;
}

function sampleRun(
  slots: Int32Array,
  mask: number,
  out: Int32Array,
  got: number,
  n: number,
  maxSteps: number,
): number {
  let i = (Math.random() * slots.length) | 0;
  const steps = Math.min(maxSteps, slots.length);
  for (let s = 0; s < steps && got < n; s++) {
    const v = slots[i]!;
    if (v > 0) out[got++] = v;
    i = (i + 1) & mask;
  }
  return got;
}

function visit(slots: Int32Array, fn: (handle: number) => void): void {
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    if (s > 0) fn(s);
  }
}
