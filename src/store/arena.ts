/**
 * Slab allocator for one shard's records, outside the V8 heap.
 *
 * Memory comes in 1 MiB pages (plain ArrayBuffers, owned by the shard's thread). Each page
 * serves one size class (memcached style); freed chunks form an intrusive free list (the next
 * handle is stored in the chunk's first word), so the allocator itself keeps no per-chunk JS
 * state. Records bigger than the largest class get a dedicated buffer.
 *
 * A handle is an int32: bit 30 clear → (page << 17) | (offset / 8); bit 30 set → index into
 * the large-record table. Page 0 is never used so a handle is never 0 (0 means "empty" to the
 * index).
 */

export const PAGE_BYTES = 1 << 20;
/**
 * Arena memory released to the GC and not yet collected. Arena buffers are freed explicitly
 * (releaseBuffer), so this stays 0 unless a runtime lacks ArrayBuffer.prototype.transfer.
 */
export const droppedArena = { bytes: 0 };

/**
 * Free an ArrayBuffer's memory now rather than at some later major GC: transfer(0) detaches it
 * (every view on it reads as empty) and V8 releases the backing store at once. An idle shard
 * never runs a major GC, and a forced one costs tens of ms, so waiting for the GC either
 * keeps freed memory in the RSS or stalls the shard. Returns false when it had to be left
 * to the GC.
 */
export function releaseBuffer(buf: ArrayBufferLike): boolean {
  const ab = buf as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
  if (typeof ab.transfer !== 'function' || ab.detached) return false;
  ab.transfer(0);
  return true;
}
const UNIT_SHIFT = 3; // chunk offsets and sizes are multiples of 8 bytes
const OFF_MASK = (1 << 17) - 1;
export const LARGE = 1 << 30;
const MAX_PAGES = 1 << 13; // 8 GiB of small records per shard
/** Empty pages a shard keeps for reuse by any size class before dropping their buffers. */
const POOL_PAGES = 4;
export const MAX_CLASS_BYTES = 256 * 1024;

function buildClasses(): number[] {
  const sizes: number[] = [];
  for (let s = 16; s <= 128; s += 8) sizes.push(s);
  let s = 128;
  while (s < MAX_CLASS_BYTES) {
    s = Math.min(MAX_CLASS_BYTES, (Math.ceil((s * 1.25) / 8) * 8) | 0);
    sizes.push(s);
  }
  return sizes;
}

const CLASS_SIZES = buildClasses();
// units (size / 8) → class index, so choosing a class is one array load.
const CLASS_OF_UNITS = (() => {
  const t = new Uint8Array((MAX_CLASS_BYTES >> UNIT_SHIFT) + 1);
  let c = 0;
  for (let u = 0; u < t.length; u++) {
    while (CLASS_SIZES[c]! < u << UNIT_SHIFT) c++;
    t[u] = c;
  }
  return t;
})();

export class Arena {
  /** Byte, int32 and float64 views of every page / large record, indexed like handles. */
  readonly pageU8: Uint8Array[] = [new Uint8Array(8)];
  readonly pageI32: Int32Array[] = [new Int32Array(2)];
  readonly pageF64: Float64Array[] = [new Float64Array(1)];
  /** Size class of each page, -1 while the page is empty (pooled or released). */
  private readonly pageClass: number[] = [-1];
  readonly largeU8: Uint8Array[] = [];
  readonly largeI32: Int32Array[] = [];
  readonly largeF64: Float64Array[] = [];
  private readonly largeFree: number[] = [];
  // Per page: live chunks, head of its own free list (0 = none) and links of its class's list
  // of pages with free chunks. Per-page lists (not one list per class) let a page that empties
  // out leave its class and serve any other one (see releasePage).
  private readonly pageLive = new Int32Array(MAX_PAGES);
  private readonly pageFree = new Int32Array(MAX_PAGES);
  private readonly pageNext = new Int32Array(MAX_PAGES);
  private readonly pagePrev = new Int32Array(MAX_PAGES);
  private readonly inPartial = new Uint8Array(MAX_PAGES);
  // Per class: first page with free chunks (0 = none), current bump page and offset, pages held.
  private readonly partialHead: Int32Array;
  private readonly bumpPage: Int32Array;
  private readonly bumpOff: Int32Array;
  private readonly classPages: Int32Array;
  /** Empty pages kept (buffer and index) for the next class that needs one. */
  private readonly pool: number[] = [];
  /** Page indexes whose buffer was dropped, reused before the page table grows. */
  private readonly released: number[] = [];
  /** Page being compacted: its freed chunks are not offered to alloc(). */
  private compacting = 0;
  private readonly scratchLive = new Float64Array(CLASS_SIZES.length);
  /** Bytes held in pages assigned to a class and in large buffers. */
  allocatedBytes = 0;
  /** Bytes of live chunks (class-rounded), large records included. */
  usedBytes = 0;
  /** Bytes of empty pages kept in the pool (not in allocatedBytes). */
  pooledBytes = 0;

  constructor() {
    const n = CLASS_SIZES.length;
    this.partialHead = new Int32Array(n);
    this.bumpPage = new Int32Array(n);
    this.bumpOff = new Int32Array(n).fill(PAGE_BYTES);
    this.classPages = new Int32Array(n);
  }

  /** Size actually reserved for a request of `size` bytes. */
  static chunkSize(size: number): number {
    if (size > MAX_CLASS_BYTES) return (size + 7) & ~7;
    return CLASS_SIZES[CLASS_OF_UNITS[(size + 7) >> UNIT_SHIFT]!]!;
  }

  /** Allocate at least `size` bytes; returns a handle. Contents are not zeroed. */
  alloc(size: number): number {
    if (size > MAX_CLASS_BYTES) return this.allocLarge(size);
    const c = CLASS_OF_UNITS[(size + 7) >> UNIT_SHIFT]!;
    const chunk = CLASS_SIZES[c]!;
    this.usedBytes += chunk;
    const p = this.partialHead[c]!;
    if (p !== 0) {
      const h = this.pageFree[p]!;
      const next = this.pageI32[p]![(h & OFF_MASK) << 1]!;
      this.pageFree[p] = next;
      if (next === 0) this.unlinkPartial(c, p);
      this.pageLive[p]!++;
      return h;
    }
    let off = this.bumpOff[c]!;
    let page = this.bumpPage[c]!;
    if (off + chunk > PAGE_BYTES) {
      page = this.newPage(c);
      off = 0;
    }
    this.bumpOff[c] = off + chunk;
    this.pageLive[page]!++;
    return (page << 17) | (off >> UNIT_SHIFT);
  }

  free(h: number): void {
    if ((h & LARGE) !== 0) return this.freeLarge(h);
    const page = h >>> 17;
    const c = this.pageClass[page]!;
    this.usedBytes -= CLASS_SIZES[c]!;
    if (--this.pageLive[page]! === 0) return this.releasePage(page, c);
    this.pageI32[page]![(h & OFF_MASK) << 1] = this.pageFree[page]!;
    this.pageFree[page] = h;
    if (this.inPartial[page] === 0 && page !== this.compacting) this.linkPartial(c, page);
  }

  /** Bytes reserved for the chunk behind handle h. */
  sizeOf(h: number): number {
    if ((h & LARGE) !== 0) return this.largeU8[h & ~LARGE]!.byteLength;
    return CLASS_SIZES[this.pageClass[h >>> 17]!]!;
  }

  /**
   * Whether h can be the start of a chunk of the page's current class (or a large record).
   * Handles kept across commands (the expiry wheel) may point into a page that was emptied
   * and reused by another size class; callers check this before trusting the header.
   */
  isChunkStart(h: number): boolean {
    if ((h & LARGE) !== 0) return (h & ~LARGE) < this.largeU8.length;
    const c = this.pageClass[h >>> 17];
    if (c === undefined || c < 0) return false;
    return ((h & OFF_MASK) << UNIT_SHIFT) % CLASS_SIZES[c]! === 0;
  }

  u8(h: number): Uint8Array {
    return (h & LARGE) !== 0 ? this.largeU8[h & ~LARGE]! : this.pageU8[h >>> 17]!;
  }
  i32(h: number): Int32Array {
    return (h & LARGE) !== 0 ? this.largeI32[h & ~LARGE]! : this.pageI32[h >>> 17]!;
  }
  f64(h: number): Float64Array {
    return (h & LARGE) !== 0 ? this.largeF64[h & ~LARGE]! : this.pageF64[h >>> 17]!;
  }
  /** Byte offset of the chunk inside the array returned by u8/i32/f64. */
  base(h: number): number {
    return (h & LARGE) !== 0 ? 0 : (h & OFF_MASK) << UNIT_SHIFT;
  }

  /** Drop every page and large record (FLUSHALL): memory goes back to the OS. */
  reset(): void {
    for (let p = 1; p < this.pageU8.length; p++) this.releaseOrCount(this.pageU8[p]!.buffer);
    for (const b of this.largeU8) this.releaseOrCount(b.buffer);
    this.pageU8.length = 1;
    this.pageI32.length = 1;
    this.pageF64.length = 1;
    this.pageClass.length = 1;
    this.largeU8.length = 0;
    this.largeI32.length = 0;
    this.largeF64.length = 0;
    this.largeFree.length = 0;
    this.pageLive.fill(0);
    this.pageFree.fill(0);
    this.inPartial.fill(0);
    this.partialHead.fill(0);
    this.bumpPage.fill(0);
    this.bumpOff.fill(PAGE_BYTES);
    this.classPages.fill(0);
    this.pool.length = 0;
    this.released.length = 0;
    this.compacting = 0;
    this.allocatedBytes = 0;
    this.usedBytes = 0;
    this.pooledBytes = 0;
  }

  /**
   * Bytes of page memory holding no live chunk (free chunks and unused page tails), the
   * fragmentation compaction can win back.
   */
  get freeBytes(): number {
    return this.allocatedBytes - this.usedBytes;
  }

  /**
   * Pick a page worth compacting: in the class with the most free chunk memory (at least two
   * pages' worth, so moving its records can empty a page), the page with the fewest live
   * chunks, other than the class's bump page. Marks it as being compacted (its free chunks
   * leave the class's free lists) and returns it, or 0 when nothing is worth it.
   * O(pages): called at most once per emptied page.
   */
  beginCompaction(): number {
    if (this.compacting !== 0) return this.compacting;
    const live = this.scratchLive;
    live.fill(0);
    for (let p = 1; p < this.pageClass.length; p++) {
      const c = this.pageClass[p]!;
      if (c >= 0) live[c] += this.pageLive[p]!;
    }
    let best = -1;
    let bestFree = 2 * PAGE_BYTES;
    for (let c = 0; c < CLASS_SIZES.length; c++) {
      const free = this.classPages[c]! * PAGE_BYTES - live[c]! * CLASS_SIZES[c]!;
      if (free > bestFree) {
        bestFree = free;
        best = c;
      }
    }
    if (best < 0) return 0;
    let page = 0;
    let fewest = Infinity;
    for (let p = 1; p < this.pageClass.length; p++) {
      if (this.pageClass[p] !== best || p === this.bumpPage[best]) continue;
      if (this.pageLive[p]! < fewest) {
        fewest = this.pageLive[p]!;
        page = p;
      }
    }
    if (page === 0) return 0;
    if (this.inPartial[page] !== 0) this.unlinkPartial(best, page);
    this.compacting = page;
    this.compactOff = 0;
    return page;
  }

  /** Chunk size of a page's class (0 for an empty page). */
  chunkOf(page: number): number {
    const c = this.pageClass[page]!;
    return c < 0 ? 0 : CLASS_SIZES[c]!;
  }

  /** Handle of the chunk at byte offset `off` of `page`. */
  static handle(page: number, off: number): number {
    return (page << 17) | (off >> UNIT_SHIFT);
  }

  /** Next chunk offset to examine in the page being compacted (store/reclaim.ts). */
  compactOff = 0;

  /** The page being compacted (0 = none). */
  get compactionPage(): number {
    return this.compacting;
  }

  /** End a compaction (the page emptied, or some record could not be moved). */
  endCompaction(): void {
    const p = this.compacting;
    this.compacting = 0;
    if (p === 0 || this.pageClass[p]! < 0) return;
    if (this.pageFree[p] !== 0 && this.inPartial[p] === 0) this.linkPartial(this.pageClass[p]!, p);
  }

  /** Drop pooled pages beyond `keep` (their memory returns to the OS at the next GC). */
  trimPool(keep: number): void {
    while (this.pool.length > keep) {
      this.pooledBytes -= PAGE_BYTES;
      this.dropPage(this.pool.pop()!);
    }
  }

  private linkPartial(c: number, p: number): void {
    const head = this.partialHead[c]!;
    this.pageNext[p] = head;
    this.pagePrev[p] = 0;
    if (head !== 0) this.pagePrev[head] = p;
    this.partialHead[c] = p;
    this.inPartial[p] = 1;
  }

  private unlinkPartial(c: number, p: number): void {
    const next = this.pageNext[p]!;
    const prev = this.pagePrev[p]!;
    if (prev !== 0) this.pageNext[prev] = next;
    else this.partialHead[c] = next;
    if (next !== 0) this.pagePrev[next] = prev;
    this.inPartial[p] = 0;
  }

  /**
   * A page whose last chunk was freed leaves its class: it goes to the pool (or, with the pool
   * full, its buffer is dropped) so memory freed in one size class can serve another. Without
   * this, pages stay with the class that first used them and a shift in value sizes grows
   * the process far beyond the data it holds.
   */
  private releasePage(p: number, c: number): void {
    if (this.inPartial[p] !== 0) this.unlinkPartial(c, p);
    this.pageFree[p] = 0;
    if (this.bumpPage[c] === p) {
      this.bumpPage[c] = 0;
      this.bumpOff[c] = PAGE_BYTES;
    }
    if (this.compacting === p) this.compacting = 0;
    this.pageClass[p] = -1;
    this.classPages[c]!--;
    this.allocatedBytes -= PAGE_BYTES;
    if (this.pool.length < POOL_PAGES) {
      this.pool.push(p);
      this.pooledBytes += PAGE_BYTES;
    } else this.dropPage(p);
  }

  private releaseOrCount(buf: ArrayBufferLike): void {
    if (buf.byteLength > 0 && !releaseBuffer(buf)) droppedArena.bytes += buf.byteLength;
  }

  private dropPage(p: number): void {
    this.releaseOrCount(this.pageU8[p]!.buffer);
    this.pageU8[p] = EMPTY_U8;
    this.pageI32[p] = EMPTY_I32;
    this.pageF64[p] = EMPTY_F64;
    this.released.push(p);
  }

  private newPage(c: number): number {
    let page: number;
    if (this.pool.length > 0) {
      page = this.pool.pop()!;
      this.pooledBytes -= PAGE_BYTES;
      // Zeroed so a stale handle into it (see isChunkStart) reads an OWNER byte of 0.
      this.pageU8[page]!.fill(0);
    } else {
      const ab = new ArrayBuffer(PAGE_BYTES);
      if (this.released.length > 0) {
        page = this.released.pop()!;
        this.pageU8[page] = new Uint8Array(ab);
        this.pageI32[page] = new Int32Array(ab);
        this.pageF64[page] = new Float64Array(ab);
      } else {
        page = this.pageU8.length;
        if (page >= MAX_PAGES) throw new RangeError('shard arena exhausted');
        this.pageU8.push(new Uint8Array(ab));
        this.pageI32.push(new Int32Array(ab));
        this.pageF64.push(new Float64Array(ab));
        this.pageClass.push(-1);
      }
    }
    this.pageClass[page] = c;
    this.pageLive[page] = 0;
    this.pageFree[page] = 0;
    this.classPages[c]!++;
    this.bumpPage[c] = page;
    this.allocatedBytes += PAGE_BYTES;
    return page;
  }

  private allocLarge(size: number): number {
    const bytes = (size + 7) & ~7;
    const ab = new ArrayBuffer(bytes);
    const idx = this.largeFree.length > 0 ? this.largeFree.pop()! : this.largeU8.length;
    this.largeU8[idx] = new Uint8Array(ab);
    this.largeI32[idx] = new Int32Array(ab);
    this.largeF64[idx] = new Float64Array(ab);
    this.allocatedBytes += bytes;
    this.usedBytes += bytes;
    return LARGE | idx;
  }

  private freeLarge(h: number): void {
    const idx = h & ~LARGE;
    const bytes = this.largeU8[idx]!.byteLength;
    this.releaseOrCount(this.largeU8[idx]!.buffer);
    this.allocatedBytes -= bytes;
    this.usedBytes -= bytes;
    // Drop the buffer now so its memory is returned; keep the slot for reuse.
    this.largeU8[idx] = EMPTY_U8;
    this.largeI32[idx] = EMPTY_I32;
    this.largeF64[idx] = EMPTY_F64;
    this.largeFree.push(idx);
  }
}

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);
