/**
 * maxmemory and every maxmemory-policy on a real daemon with two shards: which keys go and
 * which stay, -OOM under noeviction (reads and deletes keep working, a command split across
 * shards is refused whole), OBJECT FREQ / IDLETIME, INFO and /metrics counters, and the
 * `evicted` keyspace notification.
 */
import http from 'node:http';
import t from 'tap';
import { Redis } from 'ioredis';
import { pipeline, setCmd } from '../helpers/bulk.ts';
import { RawClient } from '../helpers/resp-client.ts';
import { startRedis, startTessera } from '../helpers/server.ts';
import { E } from '../../src/protocol/redis-errors.ts';

const srv = await startTessera(['--shards', '2']);
const r = new Redis({ port: srv.port, lazyConnect: true, maxRetriesPerRequest: 0 });
await r.connect();
t.teardown(async () => {
  r.disconnect();
  await srv.stop();
});

const VALUE = 'v'.repeat(200);

async function info(section: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const line of (await r.info(section)).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
const used = async (): Promise<number> => Number((await info('memory')).get('used_memory'));
const evictedKeys = async (): Promise<number> => Number((await info('stats')).get('evicted_keys'));

async function load(prefix: string, n: number, ttl = 0): Promise<void> {
  const res = await pipeline(srv.port, n, (i) => setCmd(`${prefix}:${i}`, VALUE, ttl));
  if (res.ok !== n) throw new Error(`load ${prefix}: ${res.ok}/${n} OK, errors ${[...res.errors]}`);
}

/** How many of prefix:0..n-1 exist. */
async function present(prefix: string, n: number): Promise<number> {
  let found = 0;
  for (let i = 0; i < n; i += 500) {
    const keys = Array.from({ length: Math.min(500, n - i) }, (_, j) => `${prefix}:${i + j}`);
    found += await r.exists(...keys);
  }
  return found;
}

/** Fresh db under `policy` without a limit (the limit is set once the data is in). */
async function reset(policy: string): Promise<void> {
  await r.config('SET', 'maxmemory', '0');
  await r.flushall();
  await r.config('SET', 'maxmemory-policy', policy);
}

/** Lower maxmemory to `fraction` of what is used and wait until the shards evicted down to it. */
async function squeeze(fraction: number): Promise<number> {
  const limit = Math.floor((await used()) * fraction);
  await r.config('SET', 'maxmemory', String(limit));
  const deadline = Date.now() + 10000;
  while ((await used()) > limit) {
    if (Date.now() > deadline) throw new Error(`still over ${limit} after 10 s`);
    await new Promise((res) => setTimeout(res, 50));
  }
  return limit;
}

const N = 4000;

t.test('allkeys-lru evicts the least recently used keys', async (t) => {
  await reset('allkeys-lru');
  await load('cold', N);
  // The LRU clock has a resolution of one second, as Redis's.
  await new Promise((res) => setTimeout(res, 2100));
  await load('hot', N);
  const before = await evictedKeys();
  await squeeze(0.75);
  const hot = await present('hot', N);
  const cold = await present('cold', N);
  t.ok(hot >= N * 0.95, `recently written keys stay (${hot}/${N})`);
  t.ok(cold <= N * 0.65, `old keys were evicted (${cold}/${N} left)`);
  t.equal((await evictedKeys()) - before, 2 * N - hot - cold, 'INFO evicted_keys counts every eviction');
  const idle = await r.object('IDLETIME', 'cold:1').catch(() => null);
  t.ok(idle === null || Number(idle) >= 2, 'OBJECT IDLETIME under LRU');
  await t.rejects(r.object('FREQ', 'hot:1'), { message: E.LFU_NOT_SELECTED });
});

t.test('allkeys-lfu keeps frequently read keys; OBJECT FREQ', async (t) => {
  await reset('allkeys-lfu');
  await load('rare', N);
  await load('freq', N);
  const gets = await pipeline(srv.port, N * 20, (i) =>
    Buffer.from(`*2\r\n$3\r\nGET\r\n$${`freq:${i % N}`.length}\r\nfreq:${i % N}\r\n`),
  );
  t.equal(gets.errors.size, 0);
  t.ok(Number(await r.object('FREQ', 'freq:7')) > 5, 'read keys have counted accesses');
  t.equal(await r.object('FREQ', 'rare:7'), 5, 'a key written once has LFU_INIT_VAL');
  await t.rejects(r.object('IDLETIME', 'rare:7'), { message: E.LFU_SELECTED });
  t.equal(await r.object('FREQ', 'missing'), null);
  await squeeze(0.75);
  const freq = await present('freq', N);
  const rare = await present('rare', N);
  t.ok(freq >= N * 0.95, `frequently read keys stay (${freq}/${N})`);
  t.ok(rare <= N * 0.65, `rarely used keys were evicted (${rare}/${N} left)`);
});

t.test('volatile-lru: only keys with a TTL go; then -OOM', async (t) => {
  await reset('volatile-lru');
  await load('keep', N);
  await load('ttl', N / 2, 3600);
  // Below what the keys without a TTL use, in each shard.
  await r.config('SET', 'maxmemory', String(Math.floor((await used()) * 0.5)));
  const deadline = Date.now() + 10000;
  while ((await present('ttl', N / 2)) > 0 && Date.now() < deadline)
    await new Promise((res) => setTimeout(res, 50));
  t.equal(await present('ttl', N / 2), 0, 'every key with a TTL was evicted');
  t.equal(await present('keep', N), N, 'keys without a TTL are all there');
  await t.rejects(r.set('one-more', 'x'), { message: E.OOM }, 'nothing left to evict');
  t.equal(await r.get('keep:1'), VALUE, 'reads still work');
});

t.test('volatile-ttl evicts the soonest expiries first', async (t) => {
  await reset('volatile-ttl');
  await load('soon', N, 1000);
  await load('late', N, 100000);
  await squeeze(0.75);
  const late = await present('late', N);
  const soon = await present('soon', N);
  t.ok(late >= N * 0.95, `late expiries stay (${late}/${N})`);
  t.ok(soon <= N * 0.65, `soon expiries were evicted (${soon}/${N} left)`);
});

t.test('allkeys-random and volatile-random', async (t) => {
  await reset('allkeys-random');
  await load('a', N);
  await load('b', N, 3600);
  await squeeze(0.6);
  const a = await present('a', N);
  const b = await present('b', N);
  t.ok(a < N * 0.9 && b < N * 0.9, `both groups lose keys (${a}, ${b})`);
  await reset('volatile-random');
  await load('a', N);
  await load('b', N, 3600);
  await squeeze(0.8);
  t.equal(await present('a', N), N, 'keys without a TTL stay');
  t.ok((await present('b', N)) < N * 0.8);
});

t.test('noeviction: -OOM for denyoom commands, reads and deletes work', async (t) => {
  await reset('noeviction');
  await load('k', N);
  const before = await evictedKeys();
  await r.config('SET', 'maxmemory', String(Math.floor((await used()) * 0.5)));
  // Sent right behind CONFIG SET: refused by the shard (its flag was not up yet).
  await t.rejects(r.set('k:new', 'x'), { message: E.OOM });
  await r.dbsize(); // every shard has run a command under the new limit: flags are up
  const rejected = async (): Promise<number> =>
    Number(/rejected_calls=(\d+)/.exec((await info('commandstats')).get('cmdstat_set') ?? '')?.[1] ?? 0);
  const rejectedBefore = await rejected();
  await t.rejects(r.set('k:new', 'x'), { message: E.OOM });
  t.equal((await rejected()) - rejectedBefore, 1, 'refused before execution: a rejected call, as in Redis');
  await t.rejects(r.incr('counter'), { message: E.OOM });
  await t.rejects(r.append('k:1', 'x'), { message: E.OOM });
  // Keys on both shards: refused whole, nothing written anywhere.
  const keys = Array.from({ length: 20 }, (_, i) => `m:${i}`);
  await t.rejects(r.mset(...keys.flatMap((k) => [k, 'x'])), { message: E.OOM });
  t.equal(await r.exists(...keys), 0, 'no part of the refused MSET was applied');
  t.equal(await r.get('k:1'), VALUE, 'GET works');
  t.equal(await r.exists('k:2'), 1);
  t.equal(await r.del('k:1', 'k:2'), 2, 'DEL works (it frees memory)');
  t.equal(await evictedKeys(), before, 'noeviction evicts nothing');
  t.match((await info('errorstats')).get('errorstat_OOM'), /count=[1-9]/);
  // Deleting enough brings the shards back under their shares.
  await r.flushall();
  await new Promise((res) => setTimeout(res, 150));
  t.equal(await r.set('k:new', 'x'), 'OK');
  t.equal(await r.mset(...keys.flatMap((k) => [k, 'x'])), 'OK');
});

t.test('transactions under OOM, compared with redis-server', async (t) => {
  await reset('noeviction');
  const red = await startRedis();
  const [tc, rc, ta, ra] = await Promise.all([
    RawClient.connect(srv.port),
    RawClient.connect(red.port),
    RawClient.connect(srv.port),
    RawClient.connect(red.port),
  ]);
  t.teardown(async () => {
    for (const c of [tc, rc, ta, ra]) c.close();
    await red.stop();
  });
  const both = async (...cmd: string[]): Promise<void> => {
    const [a, b] = await Promise.all([tc.call(...cmd), rc.call(...cmd)]);
    t.equal(a, b, cmd.join(' '));
  };
  /** On the other connections (outside the transaction). */
  const admin = async (...cmd: string[]): Promise<void> => {
    const [a, b] = await Promise.all([ta.call(...cmd), ra.call(...cmd)]);
    t.equal(a, b, `(admin) ${cmd.join(' ')}`);
  };
  await both('SET', 'k', 'v');
  await both('MULTI');
  await both('SET', 'x', '1');
  await both('GET', 'k');
  await admin('CONFIG', 'SET', 'maxmemory', '1');
  await admin('DBSIZE'); // every shard has run a command under the new limit: flags are up
  await both('EXEC'); // a denyoom command queued: the transaction is discarded
  await both('DISCARD');
  await both('MULTI');
  await both('GET', 'k'); // nothing can be queued under OOM, not even a read
  await both('EXEC');
  await both('MULTI');
  await both('EXEC'); // an empty transaction runs
  await both('GET', 'k');
  await admin('CONFIG', 'SET', 'maxmemory', '0');
  await both('GET', 'x');
});

t.test('INFO memory, CONFIG and /metrics', async (t) => {
  await reset('allkeys-lru');
  await r.config('SET', 'maxmemory', '100mb');
  const m = await info('memory');
  t.equal(m.get('maxmemory'), String(100 * 1024 * 1024));
  t.equal(m.get('maxmemory_human'), '100.00M');
  t.equal(m.get('maxmemory_policy'), 'allkeys-lru');
  t.ok(Number(m.get('used_memory_peak')) >= Number(m.get('used_memory')));
  t.ok(Number(m.get('mem_fragmentation_ratio')) > 1, 'RSS over used memory');
  t.same(await r.config('GET', 'maxmemory'), ['maxmemory', String(100 * 1024 * 1024)]);
  await t.rejects(r.config('SET', 'maxmemory', '1.5gb'), /argument must be a memory value/);
  await t.rejects(
    r.config('SET', 'maxmemory-policy', 'lru'),
    /must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction/,
  );
  await t.rejects(r.config('SET', 'maxmemory-samples', '0'), /between 1 and 2147483647/);
  t.same(await r.config('GET', 'lfu-*'), ['lfu-log-factor', '10', 'lfu-decay-time', '1']);
  t.equal(await r.config('SET', 'lazyfree-lazy-user-flush', 'yes'), 'OK');
  await r.config('SET', 'lazyfree-lazy-user-flush', 'no');
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: srv.metricsPort, path: '/metrics' }, (res) => {
        let s = '';
        res.on('data', (d: Buffer) => (s += d.toString()));
        res.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
  let sum = 0;
  for (const m of body.matchAll(/^tessera_shard_evicted_keys_total\{shard="\d+"\} (\d+)/gm))
    sum += Number(m[1]);
  t.ok(sum > 0, 'earlier evictions show in the metrics');
  t.equal(sum, await evictedKeys(), 'metrics and INFO agree');
  // STATS (RESP2: flat arrays of pairs): total.evicted_keys
  const stats = (await r.call('STATS')) as unknown[];
  const field = (pairs: unknown[], name: string): unknown => pairs[pairs.indexOf(name) + 1];
  t.equal(field(field(stats, 'total') as unknown[], 'evicted_keys'), sum, 'STATS agrees');
});

t.test('keyspace notification "evicted"', async (t) => {
  const ok = await r.config('SET', 'notify-keyspace-events', 'Ee').catch(() => null);
  if (ok === null) {
    t.pass('skipped: notify-keyspace-events is not available in this build');
    return;
  }
  await reset('allkeys-lru');
  const sub = new Redis({ port: srv.port });
  t.teardown(() => sub.disconnect());
  const evicted: string[] = [];
  sub.on('message', (_ch: string, key: string) => evicted.push(key));
  await sub.subscribe('__keyevent@0__:evicted');
  await load('n', 2000);
  await r.config('SET', 'maxmemory', String(await used()));
  await load('n2', 500); // writes over the limit evict before they run
  const deadline = Date.now() + 5000;
  while (evicted.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  t.ok(evicted.length > 0, `${evicted.length} evicted events`);
  t.ok(
    evicted.every((k) => k.startsWith('n')),
    'events name the evicted keys',
  );
  t.equal(await r.exists(evicted[0]!), 0, 'the notified key is gone');
  await r.config('SET', 'notify-keyspace-events', '');
});
