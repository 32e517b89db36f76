/**
 * One quicklist node: a packed run of list elements in a single Uint8Array, like a Redis
 * listpack. Each entry is `len` as a forward varint, the bytes, then `len` again as a backward
 * varint, so a node can be walked from either end without an index. Data sits in
 * buf[start, end) with free space on both sides: pushes and pops at either end of a node are
 * O(1) amortised, and an edit in the middle moves whichever side of it is shorter.
 */

/** Bytes of entries per node: Redis's list-max-listpack-size -2 (8 KiB). */
export const MAX_NODE = 8192;
/** Smallest buffer a node gets. */
const MIN_CAP = 32;

/** Bytes of the varint encoding of n (7 bits per byte). n < 2^35. */
export function vsize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Bytes an element of `len` bytes takes in a node. */
export function entrySize(len: number): number {
  return len + 2 * vsize(len);
}

/**
 * Freed MAX_NODE-byte buffers, reused by the next node that needs one. Each allocation of an
 * off-heap Uint8Array costs microseconds (backing store plus external-memory accounting that
 * drives GC), so a queue that drains nodes at one end and fills new ones at the other would
 * otherwise pay that every ~1600 small pushes. Module state is per shard (one worker each, one
 * command at a time); a few buffers at most, so an idle shard holds at most SPARE_MAX * 8 KiB.
 */
const spare: Uint8Array[] = [];
const SPARE_MAX = 8;

/** A buffer of `cap` bytes; its content is garbage (nodes only read what they wrote). */
function takeBuffer(cap: number): Uint8Array {
  return cap === MAX_NODE && spare.length > 0 ? spare.pop()! : new Uint8Array(cap);
}

/** Hands back a buffer no node uses any more. */
export function releaseBuffer(b: Uint8Array): void {
  if (b.length === MAX_NODE && spare.length < SPARE_MAX) spare.push(b);
}

function ceilPow2(n: number): number {
  let c = MIN_CAP;
  while (c < n) c *= 2;
  return c;
}

/** Where the last readAt/readBack found an entry: start, data offset, data length, end. */
export class Entry {
  p = 0;
  d = 0;
  n = 0;
  e = 0;
}

export class QNode {
  buf: Uint8Array;
  start: number;
  end: number;
  count = 0;
  prev: QNode | null = null;
  next: QNode | null = null;

  /**
   * An empty node with room for `need` bytes, placed for pushes at the head or the tail;
   * `full` starts it at MAX_NODE bytes (a push run overflowed its neighbour and will fill it:
   * this skips the eight doublings from MIN_CAP).
   */
  constructor(need: number, atHead: boolean, full = false) {
    const cap = need > MAX_NODE ? need : full ? MAX_NODE : ceilPow2(need);
    this.buf = takeBuffer(cap);
    this.start = this.end = atHead ? cap : 0;
  }

  get used(): number {
    return this.end - this.start;
  }

  /** Reads the entry starting at p into `at`. */
  readAt(p: number, at: Entry): void {
    const b = this.buf;
    let x = b[p]!;
    let n = x & 0x7f;
    let q = p + 1;
    for (let s = 7; x & 0x80; s += 7) {
      x = b[q++]!;
      n += (x & 0x7f) * 2 ** s;
    }
    at.p = p;
    at.d = q;
    at.n = n;
    at.e = q + n + (q - p);
  }

  /** Reads the entry ending at e into `at`. */
  readBack(e: number, at: Entry): void {
    const b = this.buf;
    let q = e - 1;
    let x = b[q]!;
    let n = x & 0x7f;
    for (let s = 7; x & 0x80; s += 7) {
      x = b[--q]!;
      n += (x & 0x7f) * 2 ** s;
    }
    const h = e - q;
    at.e = e;
    at.n = n;
    at.d = q - n;
    at.p = at.d - h;
  }

  /** Writes an entry of src[off, off+len) at p (its entrySize bytes must be reserved). */
  write(p: number, src: Uint8Array, off: number, len: number): void {
    const b = this.buf;
    const h = vsize(len);
    let n = len;
    for (let i = 0; i < h; i++, n = Math.floor(n / 128)) b[p + i] = (n & 0x7f) | (i < h - 1 ? 0x80 : 0);
    const d = p + h;
    if (len <= 32) for (let i = 0; i < len; i++) b[d + i] = src[off + i]!;
    else b.set(src.subarray(off, off + len), d);
    const e = d + len + h;
    n = len;
    for (let i = 1; i <= h; i++, n = Math.floor(n / 128)) b[e - i] = (n & 0x7f) | (i < h ? 0x80 : 0);
  }

  /**
   * Replaces `del` bytes at `pos` by a gap of `ins` bytes and returns where the gap starts.
   * Moves the shorter side when there is room on its end (first re-placing the data when only
   * the other end has room), else reallocates (growth doubles up to MAX_NODE; a node over MAX_NODE holds one large element and gets exactly its size).
   */
  splice(pos: number, del: number, ins: number): number {
    const diff = ins - del;
    const b = this.buf;
    const left = pos - this.start;
    const right = this.end - pos - del;
    let canLeft = this.start - diff >= 0;
    let canRight = this.end + diff <= b.length;
    if (canLeft !== canRight && canLeft === left > right) {
      // The shorter side has no room on its end but the buffer has: move the data once so
      // most of the free space is on that side. Shifting the longer side instead would be
      // paid again on every push at this end (an LPUSH run would move the whole node each
      // time its head room ran out); after this, the pushes that follow are O(1) again.
      const free = b.length - (this.end - this.start);
      const ns = left <= right ? Math.max(diff, free - (free >> 2)) : Math.min(free - diff, free >> 2);
      b.copyWithin(ns, this.start, this.end);
      pos += ns - this.start;
      this.end += ns - this.start;
      this.start = ns;
      canLeft = left <= right;
      canRight = !canLeft;
    }
    // copyWithin is a builtin call even for nothing: pushes at an end move no bytes.
    if (canLeft && (left <= right || !canRight)) {
      if (left > 0) b.copyWithin(this.start - diff, this.start, pos);
      this.start -= diff;
      return pos - diff;
    }
    if (canRight) {
      if (right > 0) b.copyWithin(pos + ins, pos + del, this.end);
      this.end += diff;
      return pos;
    }
    const used = left + ins + right;
    const cap = used > MAX_NODE ? used : Math.max(Math.min(b.length * 2, MAX_NODE), ceilPow2(used));
    return this.realloc(cap, pos, del, ins, left <= right);
  }

  /**
   * Moves the data into a fresh buffer of `cap` bytes with a gap of `ins` bytes replacing `del`
   * at `pos`; the free space goes mostly before the data when `slackFirst`. Returns the gap.
   */
  realloc(cap: number, pos: number, del: number, ins: number, slackFirst: boolean): number {
    const b = this.buf;
    const left = pos - this.start;
    const right = this.end - pos - del;
    const used = left + ins + right;
    const free = cap - used;
    const ns = slackFirst ? free - (free >> 2) : free >> 2;
    const nb = takeBuffer(cap);
    nb.set(b.subarray(this.start, pos), ns);
    nb.set(b.subarray(pos + del, this.end), ns + left + ins);
    this.buf = nb;
    releaseBuffer(b);
    this.start = ns;
    this.end = ns + used;
    return ns + left;
  }

  /** Gives memory back after deletions left most of the buffer unused (same idea as lpShrinkToFit). */
  shrink(): void {
    const cap = this.buf.length;
    const used = this.used;
    if (cap > 4 * MIN_CAP && used * 4 < cap) this.realloc(ceilPow2(used * 2), this.start, 0, 0, true);
  }
}
