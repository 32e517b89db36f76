/**
 * Hierarchical timing wheel driving active key expiry inside a shard worker.
 *
 * Time is cut into ticks of `tickMs`. Level 0 has 256 one-tick slots; levels 1..3 have 64 slots,
 * each slot spanning a whole block of the level below (256, 16 384 and 1 048 576 ticks). A slot
 * at level k is cascaded (its entries re-placed by their exact time) when the cursor enters the
 * lower-level block it stands for, so every entry reaches level 0 before its tick. Anything past
 * the top level's block (2^26 ticks, ~7.8 days at 10 ms) waits in an overflow bucketed by
 * top-level block: when the top level wraps only the bucket being entered is re-placed, so each
 * entry is touched O(1) times even with year-long TTLs or a large clock jump.
 *
 * Entries are (handle, expireAtMs) pairs stored interleaved in plain number arrays, so adding
 * allocates nothing per entry and V8 keeps the arrays unboxed. The wheel never removes entries:
 * the fire callback checks whether the key still has that expiry (stale entries are cheap).
 *
 * `cur` is the first tick not yet entered. Entering a tick runs its pending cascades and moves its
 * level-0 slot to `ready`; `ready` thus holds every entry whose tick is < cur, and they fire once
 * their exact time is <= now. Keeping the partially elapsed tick in `ready` is what lets an
 * advance() that returns false guarantee that nothing <= now is left, and lets a budgeted advance
 * resume exactly where it stopped. Time going backwards only means `ready` waits longer.
 * Ticks are plain numbers (Date.now()/10 exceeds 2^32), so slot arithmetic uses division, never
 * bit operations.
 */

const L0_SLOTS = 256;
const LN_SLOTS = 64;
const LEVELS = 4;
/** Ticks covered by one slot of each level. */
const SLOT_SPAN = [1, 256, 256 * 64, 256 * 64 * 64] as const;
/** Ticks covered by a whole level: one slot of the level above. */
const BLOCK_SPAN = [256, 256 * 64, 256 * 64 * 64, 256 * 64 * 64 * 64] as const;
const LEVEL_BASE = [0, L0_SLOTS, L0_SLOTS + LN_SLOTS, L0_SLOTS + 2 * LN_SLOTS] as const;
const TOTAL_SLOTS = L0_SLOTS + 3 * LN_SLOTS;
const TOP_BLOCK = BLOCK_SPAN[3];
/** Arrays that grew past this many numbers are dropped once emptied, so a burst doesn't pin memory. */
const SHRINK_ABOVE = 4096;

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

export class TimingWheel {
  readonly #tickMs: number;
  #cur: number;
  #count = 0;
  readonly #slots: number[][] = [];
  readonly #lens = new Int32Array(TOTAL_SLOTS);
  readonly #levelCount = [0, 0, 0, 0];
  #ready: number[] = [];
  #readyLen = 0;
  /** Top-level block index -> interleaved (handle, at) entries. */
  readonly #overflow = new Map<number, number[]>();
  #overflowCount = 0;
  /** Smallest key of #overflow; Infinity when empty or only +Infinity expiries remain. */
  #overflowMinBlock = Infinity;
  #advancing = false;

  constructor(tickMs: number, nowMs: number) {
    if (!(tickMs > 0) || !Number.isFinite(tickMs)) throw new RangeError(`bad tickMs ${tickMs}`);
    if (!Number.isFinite(nowMs)) throw new RangeError(`bad nowMs ${nowMs}`);
    this.#tickMs = tickMs;
    this.#cur = Math.floor(nowMs / tickMs);
    for (let i = 0; i < TOTAL_SLOTS; i++) this.#slots.push([]);
  }

  /** Entries held, including stale ones whose key has since changed. */
  get size(): number {
    return this.#count;
  }

  add(handle: number, expireAtMs: number): void {
    if (Number.isNaN(expireAtMs)) throw new RangeError('expireAtMs is NaN');
    this.#count++;
    this.#place(handle, expireAtMs, Math.floor(expireAtMs / this.#tickMs));
  }

  /**
   * Fires (at most `budget` times) every entry due at `nowMs`. Returns true when due entries
   * remain, false when caught up. Entries are unlinked before `fire` runs, so a throwing
   * callback loses only its own entry. `fire` may call add() and clear(), but not advance().
   */
  advance(nowMs: number, fire: (handle: number) => void, budget: number): boolean {
    if (Number.isNaN(nowMs)) throw new RangeError('nowMs is NaN');
    if (this.#advancing) throw new Error('TimingWheel.advance is not re-entrant');
    this.#advancing = true;
    try {
      const target = Math.floor(nowMs / this.#tickMs);
      for (;;) {
        budget = this.#drainReady(nowMs, fire, budget);
        if (budget < 0) return true;
        if (this.#cur > target) return false;
        const t = this.#nextEventTick();
        if (t > target) {
          // Nothing happens in [cur, target]: skipping is safe because no cascade source is
          // non-empty in between, so every entry's placement stays valid for the new cursor.
          this.#cur = target + 1;
          return false;
        }
        this.#cur = t;
        this.#enter(t);
        this.#cur = t + 1;
      }
    } finally {
      this.#advancing = false;
      if (this.#readyLen === 0 && this.#ready.length > SHRINK_ABOVE) this.#ready = [];
    }
  }

  /**
   * Lower bound on the ms until something may become due: 0 when something is due now (or a
   * cascade is pending), Infinity when empty. Sleeping this long never makes an entry late.
   */
  msUntilNextDue(nowMs: number): number {
    if (this.#count === 0) return Infinity;
    let best = Infinity;
    const r = this.#ready;
    for (let i = 0, n = this.#readyLen; i < n; i++) {
      const wait = r[2 * i + 1]! - nowMs;
      if (wait <= 0) return 0;
      if (wait < best) best = wait;
    }
    const t = this.#nextEventTick();
    if (t !== Infinity) best = Math.min(best, Math.max(0, t * this.#tickMs - nowMs));
    return best;
  }

  clear(): void {
    for (let i = 0; i < TOTAL_SLOTS; i++) {
      if (this.#lens[i] !== 0 || this.#slots[i]!.length > SHRINK_ABOVE) this.#slots[i] = [];
    }
    this.#lens.fill(0);
    this.#levelCount.fill(0);
    this.#ready = [];
    this.#readyLen = 0;
    this.#overflow.clear();
    this.#overflowCount = 0;
    this.#overflowMinBlock = Infinity;
    this.#count = 0;
  }

  #place(handle: number, at: number, tick: number): void {
    const cur = this.#cur;
    if (tick < cur) {
      const n = this.#readyLen++;
      this.#ready[2 * n] = handle;
      this.#ready[2 * n + 1] = at;
      return;
    }
    for (let k = 0; k < LEVELS; k++) {
      const block = BLOCK_SPAN[k]!;
      if (Math.floor(tick / block) === Math.floor(cur / block)) {
        const span = SLOT_SPAN[k]!;
        const s = LEVEL_BASE[k]! + mod(Math.floor(tick / span), k === 0 ? L0_SLOTS : LN_SLOTS);
        const n = this.#lens[s]!;
        const arr = this.#slots[s]!;
        arr[2 * n] = handle;
        arr[2 * n + 1] = at;
        this.#lens[s] = n + 1;
        this.#levelCount[k]!++;
        return;
      }
    }
    const block = Math.floor(tick / TOP_BLOCK);
    let bucket = this.#overflow.get(block);
    if (bucket === undefined) this.#overflow.set(block, (bucket = []));
    bucket.push(handle, at);
    this.#overflowCount++;
    if (block < this.#overflowMinBlock) this.#overflowMinBlock = block;
  }

  /** Fires due ready entries; returns the budget left, or -1 if it ran out with due entries left. */
  #drainReady(now: number, fire: (handle: number) => void, budget: number): number {
    let i = 0;
    // Re-read fields every step: fire() may add (appending to ready) or clear.
    while (i < this.#readyLen) {
      const r = this.#ready;
      if (r[2 * i + 1]! <= now) {
        if (budget <= 0) return -1;
        const handle = r[2 * i]!;
        const last = --this.#readyLen;
        r[2 * i] = r[2 * last]!;
        r[2 * i + 1] = r[2 * last + 1]!;
        this.#count--;
        budget--;
        fire(handle);
      } else {
        i++;
      }
    }
    return budget;
  }

  /** First tick >= cur whose entering does any work; Infinity when the wheel proper is empty. */
  #nextEventTick(): number {
    const cur = this.#cur;
    let best = Infinity;
    if (this.#levelCount[0]! > 0) {
      const base = cur - mod(cur, L0_SLOTS);
      for (let i = mod(cur, L0_SLOTS); i < L0_SLOTS; i++) {
        if (this.#lens[i] !== 0) {
          best = base + i;
          break;
        }
      }
    }
    for (let k = 1; k < LEVELS; k++) {
      if (this.#levelCount[k] === 0) continue;
      const span = SLOT_SPAN[k]!;
      const base = cur - mod(cur, BLOCK_SPAN[k]!);
      const idx = mod(Math.floor(cur / span), LN_SLOTS);
      // A slot is cascaded when its first tick is entered; if cur is that tick, it is still pending.
      const from = mod(cur, span) === 0 ? idx : idx + 1;
      for (let j = from; j < LN_SLOTS; j++) {
        if (this.#lens[LEVEL_BASE[k]! + j] !== 0) {
          best = Math.min(best, base + j * span);
          break;
        }
      }
    }
    // +Infinity expiries sit in overflow forever and produce no event (boundary is Infinity).
    if (this.#overflowCount > 0) best = Math.min(best, Math.max(cur, this.#overflowMinBlock * TOP_BLOCK));
    return best;
  }

  /** Runs the cascades due at tick t (== cur), then moves t's slot to ready. */
  #enter(t: number): void {
    while (this.#overflowMinBlock * TOP_BLOCK <= t) this.#unloadOverflowBlock();
    if (mod(t, L0_SLOTS) === 0) {
      for (let k = LEVELS - 1; k >= 1; k--) {
        if (mod(t, SLOT_SPAN[k]!) === 0 && this.#levelCount[k]! > 0) {
          this.#cascade(k, LEVEL_BASE[k]! + mod(Math.floor(t / SLOT_SPAN[k]!), LN_SLOTS));
        }
      }
    }
    const s = mod(t, L0_SLOTS);
    const n = this.#lens[s]!;
    if (n === 0) return;
    this.#lens[s] = 0;
    this.#levelCount[0]! -= n;
    const arr = this.#slots[s]!;
    if (this.#readyLen === 0) {
      // Swap instead of copy: a tick holding 100k entries moves in O(1).
      this.#slots[s] = this.#ready.length > SHRINK_ABOVE ? [] : this.#ready;
      this.#ready = arr;
      this.#readyLen = n;
      return;
    }
    const r = this.#ready;
    let m = this.#readyLen;
    for (let i = 0; i < 2 * n; i++) r[2 * m + i] = arr[i]!;
    m += n;
    this.#readyLen = m;
    if (arr.length > SHRINK_ABOVE) this.#slots[s] = [];
  }

  #cascade(level: number, s: number): void {
    const arr = this.#slots[s]!;
    const n = this.#lens[s]!;
    // Entries of this slot all land on strictly lower levels, so arr is not written meanwhile.
    this.#lens[s] = 0;
    this.#levelCount[level]! -= n;
    const tickMs = this.#tickMs;
    for (let i = 0; i < n; i++) {
      const at = arr[2 * i + 1]!;
      this.#place(arr[2 * i]!, at, Math.floor(at / tickMs));
    }
    if (arr.length > SHRINK_ABOVE) this.#slots[s] = [];
  }

  /** Moves the earliest overflow block, which cur has reached, into the wheel. */
  #unloadOverflowBlock(): void {
    const block = this.#overflowMinBlock;
    const bucket = this.#overflow.get(block)!;
    this.#overflow.delete(block);
    this.#overflowCount -= bucket.length / 2;
    let min = Infinity;
    for (const b of this.#overflow.keys()) if (b < min) min = b;
    this.#overflowMinBlock = min;
    // cur is inside this block now, so none of these goes back to overflow.
    const tickMs = this.#tickMs;
    for (let i = 0; i < bucket.length; i += 2) {
      const at = bucket[i + 1]!;
      this.#place(bucket[i]!, at, Math.floor(at / tickMs));
    }
  }
}
