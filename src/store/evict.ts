/**
 * Eviction for one shard's share of maxmemory: Redis's approximate LRU / LFU / TTL with an
 * eviction pool (evict.c), and the random policies.
 *
 * Each round samples `maxmemory-samples` keys per non-empty db (a run of slots of the index,
 * KeyTable.sample) and merges them into a pool of the 16 best candidates seen so far, sorted
 * by score (LRU: idle seconds; LFU: 255 - decayed counter; volatile-ttl: sooner expiry is
 * better). The best pool entry that is still a live key is evicted. The pool keeps record
 * handles, not keys, and re-validates them (Keyspace.locate) because the record may have been
 * deleted, reallocated or moved by compaction since it was sampled.
 * volatile-* policies consider only keys with a TTL: Tessera has no expires dictionary (a TTL
 * is a header field), so sampling walks the index and skips keys without one.
 */
import type { Keyspace } from './keyspace.ts';
import { LRU } from './record.ts';

export const POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;
export type PolicyName = (typeof POLICIES)[number];

const NOEVICTION = 0;
const LRU_KIND = 1;
const LFU_KIND = 2;
const RANDOM_KIND = 3;
const TTL_KIND = 4;

export const EVICT_OK = 0;
/** Over the limit, but the time budget ran out while keys could still be evicted. */
export const EVICT_RUNNING = 1;
/** Over the limit and nothing (more) can be evicted: denyoom commands are refused. */
export const EVICT_FAIL = 2;

const POOL = 16;
/** Keys looked at per sampling walk (volatile policies filter them for a TTL). */
const SAMPLE_MAX = 64;
/** Larger maxmemory-samples values act as this one (Redis allows up to 2^31 - 1). */
const SAMPLES_CAP = 1024;

export class Evictor {
  /** Bytes this shard may use (0 = no limit). */
  limit = 0;
  private samples = 5;
  private kind = NOEVICTION;
  private volatile = false;
  private readonly poolH = new Int32Array(POOL);
  private readonly poolDb = new Int32Array(POOL);
  private readonly poolScore = new Float64Array(POOL);
  private poolLen = 0;
  private buf = new Int32Array(SAMPLE_MAX);
  private nextDb = 0;
  private pickedDb = 0;
  private readonly ks: Keyspace;
  /** Deletes one located key (notification, WAL hook, removal): see MemoryGuard. */
  private readonly evict: (h: number, db: number) => void;

  constructor(ks: Keyspace, evict: (h: number, db: number) => void) {
    this.ks = ks;
    this.evict = evict;
  }

  setPolicy(name: PolicyName): void {
    const kinds = [NOEVICTION, LRU_KIND, LFU_KIND, RANDOM_KIND, LRU_KIND, LFU_KIND, RANDOM_KIND, TTL_KIND];
    const i = POLICIES.indexOf(name);
    this.kind = kinds[i]!;
    this.volatile = name.startsWith('volatile-');
    this.ks.lfu = this.kind === LFU_KIND;
    this.poolLen = 0;
  }

  /** maxmemory-samples (capped at SAMPLES_CAP). */
  setSamples(n: number): void {
    this.samples = Math.min(n, SAMPLES_CAP);
    if (this.samples > this.buf.length) this.buf = new Int32Array(this.samples);
  }

  get evicting(): boolean {
    return this.kind !== NOEVICTION;
  }

  /**
   * performEvictions: delete keys until the shard is under its limit, or until `deadline`
   * (performance.now() ms) passes. With lazy-freed records pending, those are freed first.
   */
  perform(deadline: number): number {
    const ks = this.ks;
    if (this.limit === 0 || ks.memoryBytes() <= this.limit) return EVICT_OK;
    let n = 0;
    while (ks.memoryBytes() > this.limit) {
      if (ks.lazyFreePending) {
        ks.freeDetachedStep(1024);
      } else {
        if (this.kind === NOEVICTION) return EVICT_FAIL;
        const h = this.kind === RANDOM_KIND ? this.pickRandom() : this.pickFromPool();
        if (h === 0) return EVICT_FAIL;
        this.evict(h, this.pickedDb);
      }
      if ((++n & 15) === 0 && performance.now() > deadline) return EVICT_RUNNING;
    }
    return EVICT_OK;
  }

  /** Score of a candidate: higher is evicted first (Redis's "idle"). */
  private score(h: number): number {
    const ks = this.ks;
    if (this.kind === TTL_KIND) return -ks.getExpire(h);
    if (this.kind === LFU_KIND) return 255 - ks.frequency(h);
    const lru = ks.arena.i32(h)[(ks.arena.base(h) + LRU) >> 2]!;
    return (ks.now / 1000 - lru) | 0;
  }

  private keysIn(db: number): number {
    return this.volatile ? this.ks.expireCount(db) : this.ks.keyCount(db);
  }

  /** Sample keys of `db` into the pool (evictionPoolPopulate). */
  private populate(db: number): void {
    const ks = this.ks;
    const t = ks.table(db);
    const buf = this.buf;
    // volatile-*: walk until `samples` keys with a TTL were seen, or about one table's worth.
    const rounds = this.volatile ? Math.ceil(t.capacity / (SAMPLE_MAX * 10)) + 1 : 1;
    let seen = 0;
    for (let r = 0; r < rounds && seen < this.samples; r++) {
      const want = this.volatile ? Math.max(SAMPLE_MAX, this.samples) : this.samples;
      const n = t.sample(buf, want, want * 10);
      for (let i = 0; i < n && seen < this.samples; i++) {
        const h = buf[i]!;
        if (this.volatile && ks.getExpire(h) === 0) continue;
        seen++;
        this.insert(h, db, this.score(h));
      }
    }
  }

  /** Keep the pool sorted ascending by score, best candidate last (Redis's EVPOOL logic). */
  private insert(h: number, db: number, score: number): void {
    const H = this.poolH;
    const D = this.poolDb;
    const S = this.poolScore;
    let k = 0;
    while (k < this.poolLen && S[k]! < score) k++;
    if (k === 0 && this.poolLen === POOL) return; // worse than everything in a full pool
    if (this.poolLen < POOL) {
      H.copyWithin(k + 1, k, this.poolLen);
      D.copyWithin(k + 1, k, this.poolLen);
      S.copyWithin(k + 1, k, this.poolLen);
      this.poolLen++;
    } else {
      // Full: drop the worst (index 0) and insert just below k.
      k--;
      H.copyWithin(0, 1, k + 1);
      D.copyWithin(0, 1, k + 1);
      S.copyWithin(0, 1, k + 1);
    }
    H[k] = h;
    D[k] = db;
    S[k] = score;
  }

  /** The best live candidate (located, ready for removal), or 0 when no db has keys to evict. */
  private pickFromPool(): number {
    const ks = this.ks;
    const dbs = ks.tables.length;
    for (let round = 0; round < 16; round++) {
      let total = 0;
      for (let db = 0; db < dbs; db++) {
        const keys = this.keysIn(db);
        if (keys === 0) continue;
        total += keys;
        this.populate(db);
      }
      if (total === 0) return 0;
      while (this.poolLen > 0) {
        const k = --this.poolLen;
        const h = this.poolH[k]!;
        const db = this.poolDb[k]!;
        if (ks.locate(h) !== db) continue; // a ghost: deleted, moved or reused since sampled
        if (this.volatile && ks.getExpire(h) === 0) continue;
        this.pickedDb = db;
        return h;
      }
    }
    return 0;
  }

  /** allkeys-random / volatile-random: a random key of the next non-empty db. */
  private pickRandom(): number {
    const ks = this.ks;
    const dbs = ks.tables.length;
    for (let i = 0; i < dbs; i++) {
      const db = (this.nextDb = (this.nextDb + 1) % dbs);
      if (this.keysIn(db) === 0) continue;
      const t = ks.table(db);
      const tries = this.volatile ? Math.ceil(t.capacity / SAMPLE_MAX) + 1 : 4;
      for (let r = 0; r < tries; r++) {
        const n = t.sample(this.buf, this.volatile ? SAMPLE_MAX : 1, SAMPLE_MAX * 10);
        for (let j = 0; j < n; j++) {
          const h = this.buf[j]!;
          if (this.volatile && ks.getExpire(h) === 0) continue;
          if (ks.locate(h) !== db) continue;
          this.pickedDb = db;
          return h;
        }
      }
    }
    return 0;
  }
}
