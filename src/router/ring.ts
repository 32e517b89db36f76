/**
 * Single-producer single-consumer byte ring over a SharedArrayBuffer.
 *
 * Frames are `int32 length | payload | pad to 4`. A length of -1 is a wrap marker: the
 * consumer jumps back to offset 0. Positions stay inside [0, capacity) and one 4-byte word is
 * always left free, so head === tail means empty.
 *
 * Nothing is visible to the consumer until `publish()`: the producer appends a whole batch
 * (one event-loop turn on the main thread, one drained batch in a worker), then publishes
 * once. `seq` is the futex word the consumer sleeps on; it is bumped on every publish and the
 * consumer reads it *before* checking for emptiness, so a publish racing with the decision to
 * sleep makes the wait return immediately (no lost wake-up).
 */

const HEAD = 0; // consumer position (published by the consumer)
const TAIL = 1; // producer position (published by the producer)
const SEQ = 2; // futex word: bumped on every publish
const WAITING = 3; // 1 while the consumer sleeps on SEQ
const HEADER_BYTES = 64; // keep the data region on its own cache line
const WRAP = -1;

export function ringBytes(capacity: number): number {
  return HEADER_BYTES + capacity;
}

export class Ring {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** Byte view of the data region; payload offsets returned by this class index into it. */
  readonly u8: Uint8Array;
  /** Int32 view of the data region (payload offsets are 4-aligned: index with off >> 2). */
  readonly i32: Int32Array;
  /** Buffer view of the data region: Buffer#copy from it allocates no view objects. */
  readonly buf: Buffer;
  /** Largest payload that fits in one frame; bigger messages take the spill path. */
  readonly maxFrame: number;
  private readonly ctl: Int32Array;
  // Producer-local tail, ahead of the published one while a batch is being built.
  private localTail: number;
  // Consumer-local head, ahead of the published one while a batch is being drained.
  private localHead: number;
  /** Length of the frame returned by the last successful `peek()`. */
  frameLen = 0;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.capacity = sab.byteLength - HEADER_BYTES;
    if (this.capacity <= 0 || this.capacity % 4 !== 0)
      throw new RangeError('ring capacity must be a positive multiple of 4');
    this.ctl = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    this.u8 = new Uint8Array(sab, HEADER_BYTES, this.capacity);
    this.i32 = new Int32Array(sab, HEADER_BYTES, this.capacity >> 2);
    this.buf = Buffer.from(sab, HEADER_BYTES, this.capacity);
    this.maxFrame = Math.floor(this.capacity / 4) & ~3;
    this.localTail = Atomics.load(this.ctl, TAIL);
    this.localHead = Atomics.load(this.ctl, HEAD);
  }

  static create(capacity: number): Ring {
    return new Ring(new SharedArrayBuffer(ringBytes(capacity)));
  }

  // ---- producer side ----

  /**
   * Reserve room for a payload of `len` bytes. Returns the payload offset, or -1 when the ring
   * has no room right now (the caller applies backpressure and retries after the consumer
   * drains). The frame becomes part of the batch only after `commit()`.
   */
  reserve(len: number): number {
    const need = 4 + ((len + 3) & ~3);
    const head = Atomics.load(this.ctl, HEAD);
    let tail = this.localTail;
    const toEnd = this.capacity - tail;
    if (toEnd < need) {
      // Must wrap: the marker occupies the rest of the region, the frame starts at 0.
      // Require head > need (not >=) so tail never catches up with head.
      if (head > tail || head <= need) return -1;
      this.i32[tail >> 2] = WRAP;
      tail = 0;
      this.localTail = 0;
    } else {
      const free = head > tail ? head - tail : this.capacity - tail + head;
      if (free <= need) return -1;
    }
    return tail + 4;
  }

  /**
   * Whether frames of these sizes would all fit now (a multi-shard command checks every ring
   * before writing to any, so it is enqueued everywhere or nowhere).
   */
  canFit(len: number): boolean {
    const need = 4 + ((len + 3) & ~3);
    const head = Atomics.load(this.ctl, HEAD);
    const tail = this.localTail;
    if (this.capacity - tail < need) return head <= tail && head > need;
    const free = head > tail ? head - tail : this.capacity - tail + head;
    return free > need;
  }

  /** Finish the frame reserved at `off` with its real length (≤ the reserved length). */
  commit(off: number, len: number): void {
    this.i32[(off - 4) >> 2] = len;
    let next = off + ((len + 3) & ~3);
    if (next >= this.capacity) next = 0;
    this.localTail = next;
  }

  /** True when frames were committed since the last publish. */
  get unpublished(): boolean {
    return this.localTail !== Atomics.load(this.ctl, TAIL);
  }

  /**
   * Take back the frames committed since the last publish (copies, in order): the producer
   * may then commit some of them again and keep others for later (a WAL that failed to reach
   * the disk holds back the replies of the writes it could not log).
   */
  takeUnpublished(): Buffer[] {
    const out: Buffer[] = [];
    let p = Atomics.load(this.ctl, TAIL);
    while (p !== this.localTail) {
      const len = this.i32[p >> 2]!;
      if (len === WRAP) {
        p = 0;
        continue;
      }
      out.push(Buffer.from(this.u8.subarray(p + 4, p + 4 + len)));
      p += 4 + ((len + 3) & ~3);
      if (p >= this.capacity) p = 0;
    }
    this.localTail = Atomics.load(this.ctl, TAIL);
    return out;
  }

  /** Make the batch visible and wake the consumer if it sleeps. Returns true when it woke it. */
  publish(): boolean {
    Atomics.store(this.ctl, TAIL, this.localTail);
    Atomics.add(this.ctl, SEQ, 1);
    if (Atomics.load(this.ctl, WAITING) === 1) {
      Atomics.notify(this.ctl, SEQ);
      return true;
    }
    return false;
  }

  /** Bump the futex word without frames (wakes a sleeping consumer for control work). */
  poke(): void {
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
  }

  // ---- consumer side ----

  /** Offset of the next published frame's payload, or -1 when the ring is empty. */
  peek(): number {
    const tail = Atomics.load(this.ctl, TAIL);
    let head = this.localHead;
    if (head === tail) return -1;
    let len = this.i32[head >> 2]!;
    if (len === WRAP) {
      head = 0;
      this.localHead = 0;
      if (head === tail) return -1;
      len = this.i32[0]!;
    }
    this.frameLen = len;
    return head + 4;
  }

  /** Consume the frame returned by the last `peek()`. */
  advance(): void {
    let next = this.localHead + 4 + ((this.frameLen + 3) & ~3);
    if (next >= this.capacity) next = 0;
    this.localHead = next;
  }

  /** Hand consumed space back to the producer. */
  release(): void {
    Atomics.store(this.ctl, HEAD, this.localHead);
  }

  /** Published bytes not yet consumed (queue depth, for stats and backpressure decisions). */
  depth(): number {
    const tail = Atomics.load(this.ctl, TAIL);
    const head = Atomics.load(this.ctl, HEAD);
    return tail >= head ? tail - head : this.capacity - head + tail;
  }

  seqValue(): number {
    return Atomics.load(this.ctl, SEQ);
  }

  /**
   * Block the (worker) consumer until the producer publishes or `timeoutMs` passes. Takes the
   * sequence number observed before the emptiness check so a racing publish is never missed.
   */
  sleep(seenSeq: number, timeoutMs: number): void {
    Atomics.store(this.ctl, WAITING, 1);
    if (Atomics.load(this.ctl, TAIL) === this.localHead) Atomics.wait(this.ctl, SEQ, seenSeq, timeoutMs);
    Atomics.store(this.ctl, WAITING, 0);
  }
}
