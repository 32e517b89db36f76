import { Arena, releaseBuffer } from './arena.ts';
import { KeyTable, dropped, hashBytes } from './keytable.ts';
import { lfuDecayed, lfuIncr, lfuMinutes } from './lfu.ts';
import { TimingWheel } from './timing-wheel.ts';
import {
  EXPIRE,
  HEADER,
  KEY_LEN,
  KEY_OFF,
  LFU,
  LFU_INIT,
  LRU,
  TYPE,
  TYPE_STRING,
  VAL_LEN,
  ENCODING,
} from './record.ts';
import type { StoreObject } from './object.ts';

/** Byte 19 of the header: table id + 1, 0 once freed (lets a stale wheel entry detect reuse). */
export const OWNER = 19;

/**
 * Everything one shard stores: all databases' indexes over one arena, plus active expiry.
 *
 * Databases map to tables through `dbTable` so SWAPDB is a pointer swap; records remember
 * their table (not their db) so the expiry wheel can delete a key without knowing the db.
 * Every method works on key bytes in caller-provided arrays (ring memory): no JS string or
 * object per key.
 */
export class Keyspace {
  readonly arena = new Arena();
  readonly tables: KeyTable[] = [];
  readonly dbTable: number[] = [];
  /** Keys with a TTL, per table. */
  readonly expires: number[] = [];
  readonly wheel: TimingWheel;
  /** Time of the batch being executed (ms); commands see one consistent clock like Redis. */
  now = Date.now();
  expiredKeys = 0;
  hits = 0;
  misses = 0;
  /** Writes since start (Redis server.dirty): every mutation bumps it. */
  dirty = 0;
  /**
   * Called with the record handle and its db just before an expired key is deleted (lazily or
   * by the wheel): keyspace notifications, WATCH and the WAL's DEL record hang off it.
   */
  onExpired: ((h: number, db: number) => void) | null = null;
  /** Called when a write creates a key (Redis dbAdd): the 'new' keyspace notification. */
  onCreate: ((h: number, db: number) => void) | null = null;
  /**
   * Copy-on-write hooks of a running snapshot (persistence/snapshot.ts): touch() before a
   * record is read, changed or deleted, created() for records made after the snapshot began.
   */
  snapshot: { touch(h: number, db: number): void; created(h: number): void } | null = null;
  /** Like onExpired, for keys evicted to respect maxmemory (evictFound). */
  onEvicted: ((h: number, db: number) => void) | null = null;
  evictedKeys = 0;
  /** Access tracking mode: LFU counter (LFU policies) or LRU clock; see touch(). */
  lfu = false;
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /** Record created by the last writeString (its first modified() is not a second access). */
  private created = 0;
  /** Slot arrays of tables detached by a lazy FLUSHDB, freed in steps (freeDetachedStep). */
  private readonly detached: Int32Array[] = [];
  private detachedPos = 0;
  /** Bytes of the detached slot arrays, still held until freed. */
  private detachedBytes = 0;
  /** Values of non-string records, indexed by the id stored in their VAL_LEN field. */
  private readonly objects: (StoreObject | undefined)[] = [undefined];
  /** bytes() of each object when last accounted (see refreshObject). */
  private readonly objectMem: number[] = [0];
  private readonly freeIds: number[] = [];
  /** Sum of objectMem: the heap bytes non-string values cost. */
  objectBytes = 0;
  /** Handle of the last lookup() hit, and its table. */
  private lastTable: KeyTable | null = null;
  private lastHash = 0;

  constructor(databases: number, tickMs = 10) {
    for (let i = 0; i < databases; i++) {
      this.tables.push(new KeyTable());
      this.dbTable.push(i);
      this.expires.push(0);
    }
    this.wheel = new TimingWheel(tickMs, this.now);
  }

  table(db: number): KeyTable {
    return this.tables[this.dbTable[db]!]!;
  }

  /**
   * Find a live key. Expired keys are deleted on the spot (lazy expiry) and reported absent.
   * Returns the record handle or 0. Does not touch the access clock; see touch().
   */
  lookup(db: number, u8: Uint8Array, off: number, len: number): number {
    const t = this.table(db);
    const hash = hashBytes(u8, off, len);
    this.lastHash = hash;
    this.lastTable = t;
    this.created = 0;
    const h = t.find(this.arena, u8, off, len, hash);
    if (h === 0) return 0;
    if (this.snapshot !== null) this.snapshot.touch(h, db);
    const exp = this.arena.f64(h)[(this.arena.base(h) + EXPIRE) >> 3]!;
    if (exp !== 0 && exp <= this.now) {
      if (this.onExpired !== null) this.onExpired(h, db);
      this.removeFound(h);
      this.expiredKeys++;
      return 0;
    }
    return h;
  }

  /**
   * Record an access (Redis's lookupKey): the LRU clock in seconds, or under an LFU policy
   * the decayed-then-incremented counter and its minute (see lfu.ts).
   */
  touch(h: number): void {
    const b = this.arena.base(h);
    const i32 = this.arena.i32(h);
    if (!this.lfu) {
      i32[(b + LRU) >> 2] = (this.now / 1000) | 0;
      return;
    }
    const r = this.arena.u8(h);
    const min = lfuMinutes(this.now);
    r[b + LFU] = lfuIncr(
      lfuDecayed(r[b + LFU]!, i32[(b + LRU) >> 2]!, min, this.lfuDecayTime),
      this.lfuLogFactor,
    );
    i32[(b + LRU) >> 2] = min;
  }

  /** OBJECT FREQ: the LFU counter after decay (LFUDecrAndReturn), without counting an access. */
  frequency(h: number): number {
    const b = this.arena.base(h);
    const ldt = this.arena.i32(h)[(b + LRU) >> 2]!;
    return lfuDecayed(this.arena.u8(h)[b + LFU]!, ldt, lfuMinutes(this.now), this.lfuDecayTime);
  }

  /**
   * Find the table slot of a live record from its handle (eviction and compaction hold handles,
   * not keys) so removeFound / relocation can follow. Returns the record's db, or -1 when the
   * handle no longer is a live record of any db (freed, reused, or in a table being lazily freed).
   */
  locate(h: number): number {
    const arena = this.arena;
    if (!arena.isChunkStart(h)) return -1;
    const r = arena.u8(h);
    const b = arena.base(h);
    const owner = r[b + OWNER];
    if (owner === undefined || owner === 0) return -1;
    const tid = owner - 1;
    const klen = arena.i32(h)[(b + KEY_LEN) >> 2]!;
    if (klen < 0 || b + KEY_OFF + klen > r.length) return -1;
    const t = this.tables[tid]!;
    this.lastHash = hashBytes(r, b + KEY_OFF, klen);
    this.lastTable = t;
    if (t.find(arena, r, b + KEY_OFF, klen, this.lastHash) !== h) return -1;
    return this.dbTable.indexOf(tid);
  }

  /** Delete an evicted key after locate(h): the WAL's hook runs first, as for expiry. */
  evictFound(h: number, db: number): void {
    if (this.snapshot !== null) this.snapshot.touch(h, db);
    if (this.onEvicted !== null) this.onEvicted(h, db);
    this.removeFound(h);
    this.evictedKeys++;
  }

  /** Delete the record found by the immediately preceding lookup(). */
  removeFound(h: number): void {
    const t = this.lastTable!;
    t.removeFound();
    this.release(h);
    this.dirty++;
  }

  /**
   * Create or overwrite `key` (after a lookup() of it; `h` is its result) with a non-string
   * value. `expireAt` as for writeString. The record's TYPE comes from the object.
   */
  writeObject(
    db: number,
    h: number,
    u8: Uint8Array,
    off: number,
    len: number,
    obj: StoreObject,
    expireAt: number,
  ): number {
    h = this.writeString(db, h, u8, off, len, 0, expireAt);
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.objects.length;
    this.objects[id] = obj;
    const mem = obj.bytes();
    this.objectMem[id] = mem;
    this.objectBytes += mem;
    const b = this.arena.base(h);
    this.arena.i32(h)[(b + VAL_LEN) >> 2] = id;
    this.arena.u8(h)[b + TYPE] = obj.type;
    return h;
  }

  /** The value of a non-string record. */
  getObject<T extends StoreObject = StoreObject>(h: number): T {
    return this.objects[this.arena.i32(h)[(this.arena.base(h) + VAL_LEN) >> 2]!] as T;
  }

  /** Re-account an object's memory after the command that changed it (see ShardContext.modified). */
  refreshObject(h: number): void {
    const id = this.arena.i32(h)[(this.arena.base(h) + VAL_LEN) >> 2]!;
    const mem = this.objects[id]!.bytes();
    this.objectBytes += mem - this.objectMem[id]!;
    this.objectMem[id] = mem;
    // A write to an existing collection is an access (Redis's lookupKeyWrite); a key created
    // by this command already got its initial clock/counter.
    if (h !== this.created) this.touch(h);
  }

  /** Bytes of the value of h: string length or the object's bytes(). */
  valueBytes(h: number): number {
    return this.type(h) === TYPE_STRING ? this.valueLength(h) : this.getObject(h).bytes();
  }

  private freeObject(h: number): void {
    const id = this.arena.i32(h)[(this.arena.base(h) + VAL_LEN) >> 2]!;
    this.objectBytes -= this.objectMem[id]!;
    this.objects[id] = undefined;
    this.objectMem[id] = 0;
    this.freeIds.push(id);
  }

  /**
   * Create or overwrite `key` as a string of `vlen` bytes (value bytes left for the caller to
   * fill at valueOffset). `expireAt` > 0 sets a TTL, 0 clears it, -1 keeps the old one.
   * Must follow a lookup() of the same key (it reuses that probe); `h` is its result.
   * `keep` bytes of the old value survive a reallocation (APPEND, SETRANGE).
   */
  writeString(
    db: number,
    h: number,
    u8: Uint8Array,
    off: number,
    len: number,
    vlen: number,
    expireAt: number,
    keep = 0,
  ): number {
    const arena = this.arena;
    const size = HEADER + len + vlen;
    const t = this.lastTable!;
    let oldExp = 0;
    this.dirty++;
    if (h !== 0) {
      if (arena.u8(h)[arena.base(h) + TYPE] !== TYPE_STRING) {
        this.freeObject(h);
        keep = 0;
      }
      oldExp = arena.f64(h)[(arena.base(h) + EXPIRE) >> 3]!;
      const chunk = arena.sizeOf(h);
      // Reuse the chunk when the new record fits and does not waste most of it.
      if (size > chunk || size * 2 < chunk) {
        // A value growing in place (APPEND, SETRANGE, SETBIT) gets slack like Redis's sds
        // (double below 1 MiB, then +1 MiB), so building it byte by byte is not quadratic.
        const nh = arena.alloc(
          keep > 0 && size > chunk ? (size < 1 << 20 ? size * 2 : size + (1 << 20)) : size,
        );
        copyRecordPrefix(arena, h, nh, HEADER + len + keep);
        arena.u8(h)[arena.base(h) + OWNER] = 0;
        arena.free(h);
        t.replaceFound(nh);
        if (this.snapshot !== null) this.snapshot.created(nh);
        h = nh;
        if (oldExp !== 0 && expireAt === -1) this.wheel.add(h, oldExp);
      }
    } else {
      h = arena.alloc(size);
      const b = arena.base(h);
      const i32 = arena.i32(h);
      const r = arena.u8(h);
      i32[(b + KEY_LEN) >> 2] = len;
      arena.f64(h)[(b + EXPIRE) >> 3] = 0;
      r[b + LFU] = LFU_INIT;
      i32[(b + LRU) >> 2] = this.lfu ? lfuMinutes(this.now) : (this.now / 1000) | 0;
      r[b + OWNER] = this.dbTable[db]! + 1;
      for (let i = 0; i < len; i++) r[b + KEY_OFF + i] = u8[off + i]!;
      t.insert(h, this.lastHash);
      if (this.onCreate !== null) this.onCreate(h, db);
      if (this.snapshot !== null) this.snapshot.created(h);
      this.created = h;
    }
    const b = arena.base(h);
    const r = arena.u8(h);
    arena.i32(h)[(b + VAL_LEN) >> 2] = vlen;
    r[b + TYPE] = TYPE_STRING;
    r[b + ENCODING] = 0;
    // Overwriting is an access (Redis: lookupKeyWrite, then dbOverwrite keeps the LFU data).
    if (h !== this.created) this.touch(h);
    if (expireAt !== -1) this.setExpireRaw(db, h, oldExp, expireAt);
    return h;
  }

  /** Set or clear (0) a key's absolute expiry. */
  setExpire(db: number, h: number, expireAt: number): void {
    this.dirty++;
    const old = this.arena.f64(h)[(this.arena.base(h) + EXPIRE) >> 3]!;
    this.setExpireRaw(db, h, old, expireAt);
  }

  getExpire(h: number): number {
    return this.arena.f64(h)[(this.arena.base(h) + EXPIRE) >> 3]!;
  }

  /** Byte offset of the value inside arena.u8(h). */
  valueOffset(h: number): number {
    const b = this.arena.base(h);
    return b + KEY_OFF + this.arena.i32(h)[(b + KEY_LEN) >> 2]!;
  }
  valueLength(h: number): number {
    return this.arena.i32(h)[(this.arena.base(h) + VAL_LEN) >> 2]!;
  }
  keyLength(h: number): number {
    return this.arena.i32(h)[(this.arena.base(h) + KEY_LEN) >> 2]!;
  }
  type(h: number): number {
    return this.arena.u8(h)[this.arena.base(h) + TYPE]!;
  }

  /** Move the record found by the last lookup() into another db (MOVE). Target must lack the key. */
  moveFound(h: number, toDb: number): void {
    const fromTable = this.tables.indexOf(this.lastTable!);
    const exp = this.getExpire(h);
    this.lastTable!.removeFound();
    const to = this.dbTable[toDb]!;
    this.tables[to]!.insert(h, this.lastHash);
    this.arena.u8(h)[this.arena.base(h) + OWNER] = to + 1;
    if (exp !== 0) {
      this.expires[fromTable]!--;
      this.expires[to]!++;
    }
  }

  /**
   * Remove every key of one db (FLUSHDB). `lazy` (FLUSHDB ASYNC, lazyfree-lazy-user-flush)
   * detaches the index at once and frees the records in steps (freeDetachedStep) so a large
   * db does not stall the shard; until then their memory still counts as used.
   */
  flushDb(db: number, lazy = false): void {
    const tid = this.dbTable[db]!;
    const t = this.tables[tid]!;
    this.dirty++;
    if (lazy && t.size > LAZY_MIN_KEYS) {
      for (const slots of t.detach()) {
        this.detached.push(slots);
        this.detachedBytes += slots.byteLength;
      }
      this.expires[tid] = 0;
      return;
    }
    t.forEach((h) => {
      if (this.arena.u8(h)[this.arena.base(h) + TYPE] !== TYPE_STRING) this.freeObject(h);
      this.arena.u8(h)[this.arena.base(h) + OWNER] = 0;
      this.arena.free(h);
    });
    t.clear();
    this.expires[tid] = 0;
  }

  /** Remove everything (FLUSHALL): pages go back to the OS. */
  flushAll(): void {
    this.dirty++;
    this.objects.length = 1;
    this.objectMem.length = 1;
    this.freeIds.length = 0;
    this.objectBytes = 0;
    for (const t of this.tables) t.clear();
    this.expires.fill(0);
    this.detached.length = 0;
    this.detachedPos = 0;
    this.detachedBytes = 0;
    this.arena.reset();
    this.wheel.clear();
  }

  swapDb(a: number, b: number): void {
    this.dirty++;
    const t = this.dbTable[a]!;
    this.dbTable[a] = this.dbTable[b]!;
    this.dbTable[b] = t;
  }

  /** Size db's empty index for `n` keys (snapshot load). */
  reserve(db: number, n: number): void {
    this.table(db).reserve(n);
  }

  keyCount(db: number): number {
    return this.table(db).size;
  }
  expireCount(db: number): number {
    return this.expires[this.dbTable[db]!]!;
  }

  /**
   * Bytes this shard's data uses (INFO used_memory, the figure maxmemory limits): live arena
   * chunks (class-rounded, like an allocator's size classes), index tables and the values of
   * non-string keys — what deleting every key would free. Free chunks and empty pool pages are
   * not counted (heldBytes() has them); compaction keeps that gap small.
   */
  memoryBytes(): number {
    return this.arena.usedBytes + this.objectBytes + this.indexBytes();
  }

  /** Index table bytes of every db (and of tables a lazy FLUSHDB has not freed yet). */
  indexBytes(): number {
    let n = this.detachedBytes;
    for (const t of this.tables) n += t.bytes;
    return n;
  }

  /** Bytes held from the OS for data: arena pages (pool included), index tables, object values. */
  heldBytes(): number {
    return this.arena.allocatedBytes + this.arena.pooledBytes + this.objectBytes + this.indexBytes();
  }

  /** A lazy FLUSHDB still has records to free. */
  get lazyFreePending(): boolean {
    return this.detached.length > 0;
  }

  /** Free up to `budget` slots of detached tables; returns true while more remain. */
  freeDetachedStep(budget: number): boolean {
    while (this.detached.length > 0 && budget > 0) {
      const slots = this.detached[0]!;
      let p = this.detachedPos;
      const end = Math.min(slots.length, p + budget);
      budget -= end - p;
      for (; p < end; p++) {
        const h = slots[p]!;
        if (h > 0) this.freeRecord(h);
      }
      if (p < slots.length) this.detachedPos = p;
      else {
        this.detached.shift();
        this.detachedPos = 0;
        this.detachedBytes -= slots.byteLength;
        if (!releaseBuffer(slots.buffer)) dropped.bytes += slots.byteLength;
      }
    }
    return this.detached.length > 0;
  }

  /**
   * Move the live record h into another chunk of its size class (compaction, see
   * store/reclaim.ts): the index slot and the expiry wheel follow; the old chunk is freed.
   * Returns false when h is not a live indexed record (nothing was moved).
   */
  relocate(h: number): boolean {
    const db = this.locate(h);
    if (db < 0) return false;
    // A running snapshot writes the record out now and skips its new chunk: exactly once.
    if (this.snapshot !== null) this.snapshot.touch(h, db);
    const arena = this.arena;
    const size = arena.sizeOf(h);
    const nh = arena.alloc(size);
    const b = arena.base(h);
    arena.u8(nh).set(arena.u8(h).subarray(b, b + size), arena.base(nh));
    this.lastTable!.replaceFound(nh);
    if (this.snapshot !== null) this.snapshot.created(nh);
    arena.u8(h)[b + OWNER] = 0;
    arena.free(h);
    const exp = this.getExpire(nh);
    if (exp !== 0) this.wheel.add(nh, exp);
    return true;
  }

  /**
   * Active expiry: delete keys whose time has come, at most `budget` wheel entries per call.
   * Returns true when more are due (the shard calls again after serving pending requests).
   */
  expireDue(budget: number): boolean {
    return this.wheel.advance(this.now, this.expireHandle, budget);
  }

  /** Idle-time housekeeping: advance incremental rehashes. */
  housekeep(): void {
    for (const t of this.tables) t.step();
  }

  private readonly expireHandle = (h: number): void => {
    const arena = this.arena;
    // The page may have been emptied and reused by another size class since h was scheduled.
    if (!arena.isChunkStart(h)) return;
    const r = arena.u8(h);
    const b = arena.base(h);
    const owner = r[b + OWNER];
    if (owner === undefined || owner === 0) return; // freed since it was scheduled
    const exp = arena.f64(h)[(b + EXPIRE) >> 3]!;
    if (exp === 0 || exp > this.now) return; // TTL removed or pushed back: a newer entry exists
    const tid = owner - 1;
    const t = this.tables[tid]!;
    const klen = arena.i32(h)[(b + KEY_LEN) >> 2]!;
    this.lastHash = hashBytes(r, b + KEY_OFF, klen);
    this.lastTable = t;
    if (t.find(arena, r, b + KEY_OFF, klen, this.lastHash) !== h) return;
    if (this.onExpired !== null) this.onExpired(h, this.dbTable.indexOf(tid));
    this.removeFound(h);
    this.expiredKeys++;
  };

  private setExpireRaw(db: number, h: number, oldExp: number, expireAt: number): void {
    const tid = this.dbTable[db]!;
    this.arena.f64(h)[(this.arena.base(h) + EXPIRE) >> 3] = expireAt;
    if (oldExp === 0 && expireAt !== 0) this.expires[tid]!++;
    else if (oldExp !== 0 && expireAt === 0) this.expires[tid]!--;
    if (expireAt !== 0) this.wheel.add(h, expireAt);
  }

  private release(h: number): void {
    const arena = this.arena;
    const b = arena.base(h);
    const r = arena.u8(h);
    if (arena.f64(h)[(b + EXPIRE) >> 3] !== 0) this.expires[r[b + OWNER]! - 1]!--;
    if (r[b + TYPE] !== TYPE_STRING) this.freeObject(h);
    r[b + OWNER] = 0;
    arena.free(h);
  }

  /** Free a record of a detached table (no index, no TTL count to maintain). */
  private freeRecord(h: number): void {
    const arena = this.arena;
    const b = arena.base(h);
    const r = arena.u8(h);
    if (r[b + TYPE] !== TYPE_STRING) this.freeObject(h);
    r[b + OWNER] = 0;
    arena.free(h);
  }
}

/** Smaller dbs are flushed at once even when asked to flush lazily (Redis: LAZYFREE_THRESHOLD). */
const LAZY_MIN_KEYS = 64;

function copyRecordPrefix(arena: Arena, from: number, to: number, bytes: number): void {
  const sb = arena.base(from);
  arena.u8(to).set(arena.u8(from).subarray(sb, sb + bytes), arena.base(to));
}
