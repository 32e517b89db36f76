import { Arena } from './arena.ts';
import { KeyTable, hashBytes } from './keytable.ts';
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
const OWNER = 19;

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
    const h = t.find(this.arena, u8, off, len, hash);
    if (h === 0) return 0;
    const exp = this.arena.f64(h)[(this.arena.base(h) + EXPIRE) >> 3]!;
    if (exp !== 0 && exp <= this.now) {
      if (this.onExpired !== null) this.onExpired(h, db);
      this.removeFound(h);
      this.expiredKeys++;
      return 0;
    }
    return h;
  }

  /** Record an access for LRU (OBJECT IDLETIME, eviction later). */
  touch(h: number): void {
    this.arena.i32(h)[(this.arena.base(h) + LRU) >> 2] = (this.now / 1000) | 0;
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
        const nh = arena.alloc(size);
        copyRecordPrefix(arena, h, nh, HEADER + len + keep);
        arena.u8(h)[arena.base(h) + OWNER] = 0;
        arena.free(h);
        t.replaceFound(nh);
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
      r[b + OWNER] = this.dbTable[db]! + 1;
      for (let i = 0; i < len; i++) r[b + KEY_OFF + i] = u8[off + i]!;
      t.insert(h, this.lastHash);
    }
    const b = arena.base(h);
    const r = arena.u8(h);
    arena.i32(h)[(b + VAL_LEN) >> 2] = vlen;
    r[b + TYPE] = TYPE_STRING;
    r[b + ENCODING] = 0;
    arena.i32(h)[(b + LRU) >> 2] = (this.now / 1000) | 0;
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

  /** Remove every key of one db (FLUSHDB). */
  flushDb(db: number): void {
    const tid = this.dbTable[db]!;
    const t = this.tables[tid]!;
    this.dirty++;
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
    this.arena.reset();
    this.wheel.clear();
  }

  swapDb(a: number, b: number): void {
    this.dirty++;
    const t = this.dbTable[a]!;
    this.dbTable[a] = this.dbTable[b]!;
    this.dbTable[b] = t;
  }

  keyCount(db: number): number {
    return this.table(db).size;
  }
  expireCount(db: number): number {
    return this.expires[this.dbTable[db]!]!;
  }

  /** Bytes this shard's data costs: arena pages plus index tables. */
  memoryBytes(): number {
    let n = this.arena.allocatedBytes + this.objectBytes;
    for (const t of this.tables) n += t.bytes;
    return n;
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
}

function copyRecordPrefix(arena: Arena, from: number, to: number, bytes: number): void {
  const sb = arena.base(from);
  arena.u8(to).set(arena.u8(from).subarray(sb, sb + bytes), arena.base(to));
}
