/**
 * Eviction, LFU and arena page recycling on a real Keyspace (no daemon): which keys each
 * policy takes, the LFU counter's arithmetic, pages that empty out serving other size
 * classes, compaction keeping every record and TTL intact, and lazy FLUSHDB.
 */
import t from 'tap';
import { Arena, PAGE_BYTES } from '../../src/store/arena.ts';
import { EVICT_FAIL, EVICT_OK, Evictor, type PolicyName } from '../../src/store/evict.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { lfuDecayed, lfuIncr, lfuMinutes } from '../../src/store/lfu.ts';
import { compactStep } from '../../src/store/reclaim.ts';
import { LFU_INIT } from '../../src/store/record.ts';

const T0 = Date.UTC(2030, 0, 1);

function key(name: string): Buffer {
  return Buffer.from(name);
}

function set(ks: Keyspace, name: string, value = 'v'.repeat(40), expireAt = 0, db = 0): number {
  const k = key(name);
  const h0 = ks.lookup(db, k, 0, k.length);
  const h = ks.writeString(db, h0, k, 0, k.length, value.length, expireAt);
  ks.arena.u8(h).set(Buffer.from(value), ks.valueOffset(h));
  return h;
}

function has(ks: Keyspace, name: string, db = 0): boolean {
  const k = key(name);
  return ks.lookup(db, k, 0, k.length) !== 0;
}

function get(ks: Keyspace, name: string, db = 0): string | null {
  const k = key(name);
  const h = ks.lookup(db, k, 0, k.length);
  if (h === 0) return null;
  ks.touch(h);
  const o = ks.valueOffset(h);
  return Buffer.from(ks.arena.u8(h).subarray(o, o + ks.valueLength(h))).toString();
}

/** A keyspace with an evictor deleting through locate/evictFound, as the shard does. */
function setup(policy: PolicyName): { ks: Keyspace; ev: Evictor; evicted: string[] } {
  const ks = new Keyspace(4);
  ks.now = T0;
  const evicted: string[] = [];
  const ev = new Evictor(ks, (h, db) => {
    const b = ks.arena.base(h) + 24;
    evicted.push(Buffer.from(ks.arena.u8(h).subarray(b, b + ks.keyLength(h))).toString());
    ks.evictFound(h, db);
  });
  ev.setPolicy(policy);
  return { ks, ev, evicted };
}

const count = (names: string[], prefix: string): number => names.filter((n) => n.startsWith(prefix)).length;

t.test('allkeys-lru evicts keys idle the longest', async (t) => {
  const { ks, ev, evicted } = setup('allkeys-lru');
  for (let i = 0; i < 2000; i++) set(ks, `cold:${i}`);
  ks.now = T0 + 600_000; // ten minutes later
  for (let i = 0; i < 2000; i++) set(ks, `hot:${i}`);
  // Evicting a quarter of the keys: while at least a fifth of those left are cold, 5 samples
  // per round (Redis's default) find one, so few recently used keys go.
  ev.limit = Math.floor(ks.memoryBytes() * 0.75);
  t.equal(ev.perform(Infinity), EVICT_OK);
  t.ok(ks.memoryBytes() <= ev.limit, 'under the limit afterwards');
  t.equal(ks.evictedKeys, evicted.length);
  t.ok(evicted.length > 800, `${evicted.length} keys evicted`);
  t.ok(
    count(evicted, 'hot:') < evicted.length * 0.05,
    `${count(evicted, 'hot:')} recently used keys evicted`,
  );
});

t.test('allkeys-lfu keeps frequently read keys, OBJECT FREQ arithmetic', async (t) => {
  const { ks, ev, evicted } = setup('allkeys-lfu');
  t.equal(ks.lfu, true);
  for (let i = 0; i < 1500; i++) set(ks, `rare:${i}`);
  for (let i = 0; i < 1500; i++) {
    set(ks, `freq:${i}`);
    for (let r = 0; r < 30; r++) get(ks, `freq:${i}`);
  }
  const h = ks.lookup(0, key('rare:1'), 0, 6);
  t.equal(ks.frequency(h), LFU_INIT, 'a key written once keeps the initial counter');
  ev.limit = Math.floor(ks.memoryBytes() * 0.75);
  t.equal(ev.perform(Infinity), EVICT_OK);
  t.ok(count(evicted, 'freq:') < evicted.length * 0.05, `${count(evicted, 'freq:')} frequent keys evicted`);
});

t.test('LFU counter: log increment and decay per lfu-decay-time minutes', async (t) => {
  t.equal(lfuIncr(LFU_INIT, 10), LFU_INIT + 1, 'at the initial value an access always counts');
  t.equal(lfuIncr(255, 10), 255, 'saturates');
  let c = LFU_INIT;
  for (let i = 0; i < 1000; i++) c = lfuIncr(c, 10);
  t.ok(c > 8 && c < 30, `1000 accesses with factor 10 reach ~18 (${c})`);
  const now = lfuMinutes(T0);
  t.equal(lfuDecayed(20, now - 5, now, 1), 15, 'one per minute');
  t.equal(lfuDecayed(20, now - 5, now, 2), 18, 'one per two minutes');
  t.equal(lfuDecayed(3, now - 50, now, 1), 0, 'not below 0');
  t.equal(lfuDecayed(20, now - 500, now, 0), 20, 'decay time 0: never');
  t.equal(lfuDecayed(20, 65535, 2, 1), 18, 'across the 16-bit wrap (Redis counts 65535 - ldt + now)');
  const { ks } = setup('allkeys-lfu');
  const h = set(ks, 'k');
  ks.now += 3 * 60_000;
  t.equal(ks.frequency(h), LFU_INIT - 3, 'OBJECT FREQ decays without an access');
});

t.test('volatile-lru evicts only keys with a TTL, then fails', async (t) => {
  const { ks, ev, evicted } = setup('volatile-lru');
  for (let i = 0; i < 1000; i++) set(ks, `keep:${i}`);
  for (let i = 0; i < 300; i++) set(ks, `ttl:${i}`, 'v'.repeat(40), T0 + 3_600_000);
  ev.limit = Math.floor(ks.memoryBytes() * 0.5);
  t.equal(ev.perform(Infinity), EVICT_FAIL, 'keys without TTL are never taken');
  t.equal(count(evicted, 'keep:'), 0);
  t.equal(count(evicted, 'ttl:'), 300, 'every key with a TTL went');
  t.equal(ks.expireCount(0), 0);
  t.ok(has(ks, 'keep:999'));
});

t.test('volatile-ttl evicts the soonest expiries first', async (t) => {
  const { ks, ev, evicted } = setup('volatile-ttl');
  for (let i = 0; i < 1000; i++) set(ks, `soon:${i}`, 'v'.repeat(40), T0 + 60_000 + i);
  for (let i = 0; i < 1000; i++) set(ks, `late:${i}`, 'v'.repeat(40), T0 + 86_400_000 + i);
  ev.limit = Math.floor(ks.memoryBytes() * 0.75);
  t.equal(ev.perform(Infinity), EVICT_OK);
  t.ok(evicted.length > 300);
  t.ok(count(evicted, 'late:') < evicted.length * 0.05, `${count(evicted, 'late:')} late keys evicted`);
});

t.test('random policies: allkeys takes from all, volatile only TTL keys', async (t) => {
  const a = setup('allkeys-random');
  for (let i = 0; i < 1000; i++) set(a.ks, `x:${i}`);
  for (let i = 0; i < 1000; i++) set(a.ks, `y:${i}`, 'v'.repeat(40), T0 + 60_000);
  a.ev.limit = Math.floor(a.ks.memoryBytes() * 0.5);
  t.equal(a.ev.perform(Infinity), EVICT_OK);
  t.ok(count(a.evicted, 'x:') > 100 && count(a.evicted, 'y:') > 100, 'both groups lose keys');
  const v = setup('volatile-random');
  for (let i = 0; i < 1000; i++) set(v.ks, `x:${i}`);
  for (let i = 0; i < 1000; i++) set(v.ks, `y:${i}`, 'v'.repeat(40), T0 + 60_000);
  v.ev.limit = Math.floor(v.ks.memoryBytes() * 0.8);
  t.equal(v.ev.perform(Infinity), EVICT_OK);
  t.equal(count(v.evicted, 'x:'), 0, 'keys without TTL stay');
  t.ok(v.evicted.length > 100);
});

t.test('eviction samples every db; noeviction never evicts', async (t) => {
  const { ks, ev, evicted } = setup('allkeys-lru');
  for (let i = 0; i < 500; i++) set(ks, `d2:${i}`, 'v'.repeat(40), 0, 2);
  ks.now += 5000;
  for (let i = 0; i < 500; i++) set(ks, `d0:${i}`);
  ev.limit = Math.floor(ks.memoryBytes() * 0.7);
  t.equal(ev.perform(Infinity), EVICT_OK);
  t.ok(count(evicted, 'd2:') > count(evicted, 'd0:'), 'the older keys of db 2 go first');
  const n = setup('noeviction');
  set(n.ks, 'a');
  n.ev.limit = 1;
  t.equal(n.ev.perform(Infinity), EVICT_FAIL);
  t.ok(has(n.ks, 'a'));
});

t.test('an empty page leaves its size class and serves another one', async (t) => {
  const arena = new Arena();
  const small: number[] = [];
  for (let i = 0; i < 40000; i++) small.push(arena.alloc(48));
  const pages = arena.allocatedBytes / PAGE_BYTES;
  t.ok(pages >= 2, `${pages} pages of 48-byte chunks`);
  for (const h of small) arena.free(h);
  t.equal(arena.usedBytes, 0);
  t.equal(arena.allocatedBytes, 0, 'no page stays with the class');
  t.equal(arena.pooledBytes, Math.min(pages, 4) * PAGE_BYTES, 'up to 4 empty pages kept in the pool');
  const big: number[] = [];
  for (let i = 0; i < 2000; i++) big.push(arena.alloc(1000));
  t.ok(arena.pooledBytes < Math.min(pages, 4) * PAGE_BYTES, 'pooled pages reused by the 1000-byte class');
  t.ok(arena.isChunkStart(big[0]!));
  // A stale handle of the old class points mid-chunk in the reused page.
  const stale = small.find((h) => h >>> 17 === big[0]! >>> 17 && !arena.isChunkStart(h));
  t.ok(stale !== undefined, 'a handle of the old class is recognised as stale');
});

t.test('compaction moves records out of sparse pages; keys, values and TTLs survive', async (t) => {
  const ks = new Keyspace(2);
  ks.now = T0;
  const N = 150000;
  for (let i = 0; i < N; i++) set(ks, `k:${i}`, `value-${i}`.padEnd(40, '.'), i % 3 === 0 ? T0 + 10_000 : 0);
  // Delete 90% scattered over every page.
  for (let i = 0; i < N; i++) {
    if (i % 10 === 0) continue;
    const k = key(`k:${i}`);
    const h = ks.lookup(0, k, 0, k.length);
    ks.removeFound(h);
  }
  const before = ks.arena.allocatedBytes;
  t.ok(ks.arena.freeBytes > 0.8 * before, 'mostly free pages before');
  let steps = 0;
  while (compactStep(ks, 512)) steps++;
  t.ok(steps > 0);
  const after = ks.arena.allocatedBytes;
  const needed = Math.ceil(ks.arena.usedBytes / PAGE_BYTES) + 1; // + the class's bump page
  t.ok(
    after <= needed * PAGE_BYTES,
    `pages ${before / PAGE_BYTES} -> ${after / PAGE_BYTES} (live data needs ${needed})`,
  );
  for (let i = 0; i < N; i += 10) {
    if (get(ks, `k:${i}`) !== `value-${i}`.padEnd(40, '.')) return t.fail(`k:${i} lost its value`);
  }
  t.equal(ks.keyCount(0), N / 10);
  // The expiry wheel follows moved records: every TTL key expires on time.
  ks.now = T0 + 10_001;
  while (ks.expireDue(100000));
  t.equal(ks.keyCount(0), N / 10 - Math.ceil(N / 30), 'the keys with a TTL expired after the move');
  t.equal(ks.expireCount(0), 0);
});

t.test('lazy FLUSHDB: keys gone at once, records freed in steps', async (t) => {
  const ks = new Keyspace(2);
  ks.now = T0;
  for (let i = 0; i < 20000; i++) set(ks, `k:${i}`, 'x'.repeat(60), i % 2 === 0 ? T0 + 5000 : 0);
  set(ks, 'other', 'x', 0, 1);
  const used = ks.memoryBytes();
  ks.flushDb(0, true);
  t.equal(ks.keyCount(0), 0);
  t.equal(ks.expireCount(0), 0);
  t.notOk(has(ks, 'k:7'));
  t.ok(ks.lazyFreePending);
  t.ok(ks.memoryBytes() > used * 0.8, 'records and slot arrays still counted until freed');
  set(ks, 'k:7', 'new'); // the db is usable right away
  let steps = 0;
  while (ks.freeDetachedStep(1024)) steps++;
  t.ok(steps > 5, `${steps} steps`);
  t.notOk(ks.lazyFreePending);
  t.equal(get(ks, 'k:7'), 'new');
  t.equal(get(ks, 'other', 1), 'x');
  t.ok(ks.arena.usedBytes < 1024, `arena live bytes ${ks.arena.usedBytes}`);
  // Stale wheel entries of the freed records are harmless.
  ks.now = T0 + 6000;
  while (ks.expireDue(100000));
  t.equal(get(ks, 'k:7'), 'new');
});
