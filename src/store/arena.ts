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
/** Arena memory released to the GC (pages on FLUSHALL, large records) and not yet collected. */
export const droppedArena = { bytes: 0 };
const UNIT_SHIFT = 3; // chunk offsets and sizes are multiples of 8 bytes
const OFF_MASK = (1 << 17) - 1;
export const LARGE = 1 << 30;
const MAX_PAGES = 1 << 13; // 8 GiB of small records per shard
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
  private readonly pageClass: number[] = [-1];
  readonly largeU8: Uint8Array[] = [];
  readonly largeI32: Int32Array[] = [];
  readonly largeF64: Float64Array[] = [];
  private readonly largeFree: number[] = [];
  // Per class: head of the free list (0 = none), current bump page and offset.
  private readonly freeHead: Int32Array;
  private readonly bumpPage: Int32Array;
  private readonly bumpOff: Int32Array;
  /** Bytes held in pages and large buffers (what the shard costs the OS). */
  allocatedBytes = 0;
  /** Bytes of live chunks (class-rounded). */
  usedBytes = 0;

  constructor() {
    const n = CLASS_SIZES.length;
    this.freeHead = new Int32Array(n);
    this.bumpPage = new Int32Array(n);
    this.bumpOff = new Int32Array(n).fill(PAGE_BYTES);
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
    const free = this.freeHead[c]!;
    if (free !== 0) {
      this.freeHead[c] = this.pageI32[free >>> 17]![(free & OFF_MASK) << 1]!;
      return free;
    }
    let off = this.bumpOff[c]!;
    let page = this.bumpPage[c]!;
    if (off + chunk > PAGE_BYTES) {
      page = this.newPage(c);
      off = 0;
    }
    this.bumpOff[c] = off + chunk;
    return (page << 17) | (off >> UNIT_SHIFT);
  }

  free(h: number): void {
    if ((h & LARGE) !== 0) return this.freeLarge(h);
    const page = h >>> 17;
    const c = this.pageClass[page]!;
    this.usedBytes -= CLASS_SIZES[c]!;
    this.pageI32[page]![(h & OFF_MASK) << 1] = this.freeHead[c]!;
    this.freeHead[c] = h;
  }

  /** Bytes reserved for the chunk behind handle h. */
  sizeOf(h: number): number {
    if ((h & LARGE) !== 0) return this.largeU8[h & ~LARGE]!.byteLength;
    return CLASS_SIZES[this.pageClass[h >>> 17]!]!;
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
    droppedArena.bytes += this.allocatedBytes;
    this.pageU8.length = 1;
    this.pageI32.length = 1;
    this.pageF64.length = 1;
    this.pageClass.length = 1;
    this.largeU8.length = 0;
    this.largeI32.length = 0;
    this.largeF64.length = 0;
    this.largeFree.length = 0;
    this.freeHead.fill(0);
    this.bumpPage.fill(0);
    this.bumpOff.fill(PAGE_BYTES);
    this.allocatedBytes = 0;
    this.usedBytes = 0;
  }

  private newPage(c: number): number {
    const page = this.pageU8.length;
    if (page >= MAX_PAGES) throw new RangeError('shard arena exhausted');
    const ab = new ArrayBuffer(PAGE_BYTES);
    this.pageU8.push(new Uint8Array(ab));
    this.pageI32.push(new Int32Array(ab));
    this.pageF64.push(new Float64Array(ab));
    this.pageClass.push(c);
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
    droppedArena.bytes += bytes;
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
