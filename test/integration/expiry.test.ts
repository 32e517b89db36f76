/**
 * Key expiry end to end: a mass expiry of 100k keys is reclaimed by active expiry (the shards'
 * timing wheels) without any client touching the keys, while PING latency stays low; lazy
 * expiry hides a key the moment its TTL passes; TTLs work in every shard.
 */
import t, { type Test as Tap } from 'tap';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTessera } from '../helpers/server.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 2;
const srv = await startTessera(['--shards', String(SHARDS)]);
const clients: Redis[] = [];
async function client(): Promise<Redis> {
  const r = new Redis({ port: srv.port, lazyConnect: true });
  await r.connect();
  clients.push(r);
  return r;
}
t.teardown(async () => {
  for (const c of clients) c.disconnect();
  await srv.stop();
});

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface MassResult {
  /** DBSIZE 0 this many ms after the (last) expiry time, and after the first key's. */
  afterLast: number;
  afterFirst: number;
  loadMs: number;
  rtts: number[];
}

/**
 * Loads N keys in pipelined batches, then polls DBSIZE until 0 while another client PINGs.
 * `expireAt` null: each key gets PX 1000 (expiries spread over the load); a number: every key
 * gets PXAT expireAt (one instant, the harder case).
 */
async function massExpiry(t: Tap, N: number, expireAt: number | null): Promise<MassResult> {
  const BATCH = 10_000;
  const [loader, poller, pinger] = await Promise.all([client(), client(), client()]);
  await loader.flushall();
  const loadStart = Date.now();
  let lastSend = loadStart;
  for (let i = 0; i < N; i += BATCH) {
    const p = loader.pipeline();
    for (let j = i; j < i + BATCH; j++)
      if (expireAt === null) p.set(`exp:${j}`, 'v', 'PX', 1000);
      else p.set(`exp:${j}`, 'v', 'PXAT', expireAt);
    lastSend = Date.now();
    await p.exec();
  }
  const loadEnd = Date.now();
  const loaded = await poller.dbsize();
  t.comment(`loaded ${N} keys in ${loadEnd - loadStart} ms; DBSIZE right after: ${loaded}`);
  // With PX 1000 a slow load may already see its first keys expire.
  if (expireAt !== null && loadEnd < expireAt) t.equal(loaded, N, 'every key present before the expiry time');
  else t.ok(loaded > 0, 'keys present');

  // Probe continuously from now until the keyspace is empty (plus a little). GET of a key in
  // every shard, not PING: PING is answered by the main thread and would not notice a shard
  // stalled by expiry work.
  const rtts: number[] = [];
  let pinging = true;
  const probeKeys = ['probe:{a}', 'probe:{b}', 'probe:{c}', 'probe:{d}'];
  await pinger.mset(...probeKeys.flatMap((k) => [k, 'v']));
  const pings = (async () => {
    while (pinging) {
      const t0 = performance.now();
      await pinger.mget(...probeKeys);
      rtts.push(performance.now() - t0);
    }
  })();
  const lastExpiry = expireAt ?? lastSend + 1000;
  let zeroAt = 0;
  while (Date.now() < lastExpiry + 10_000) {
    if ((await poller.dbsize()) === 4) {
      zeroAt = Date.now();
      break;
    }
    await sleep(5);
  }
  await sleep(100);
  pinging = false;
  await pings;
  t.ok(zeroAt > 0, 'DBSIZE reached the 4 probe keys');
  return {
    afterLast: zeroAt - lastExpiry,
    afterFirst: zeroAt - (expireAt ?? loadStart + 1000),
    loadMs: loadEnd - loadStart,
    rtts,
  };
}

function report(t: Tap, what: string, r: MassResult): void {
  t.comment(
    `${what}: DBSIZE 0 at ${r.afterLast} ms after the last key's expiry time ` +
      `(${r.afterFirst} ms after the first's); load took ${r.loadMs} ms`,
  );
  t.ok(
    r.afterLast <= 2500,
    `all keys gone ${r.afterLast} ms after expiry (limit 2500 ms on a loaded machine)`,
  );
  const p99 = percentile(r.rtts, 99);
  t.comment(
    `${what}: MGET over all shards ${r.rtts.length} times, p50 ${percentile(r.rtts, 50).toFixed(2)} ms, ` +
      `p99 ${p99.toFixed(2)} ms, max ${Math.max(...r.rtts).toFixed(2)} ms`,
  );
  t.ok(r.rtts.length > 50, 'probes ran throughout');
  t.ok(p99 < 50, `shard probe p99 ${p99.toFixed(2)} ms < 50 ms`);
}

let loadMs = 1000;
t.test('100k keys with a 1 s TTL are reclaimed untouched, shards stay responsive meanwhile', async (t) => {
  const r = await massExpiry(t, 100_000, null);
  loadMs = r.loadMs;
  report(t, 'PX 1000', r);
  const info = await clients[0]!.info('stats');
  const expired = Number(/expired_keys:(\d+)/.exec(info)?.[1] ?? NaN);
  t.comment(`INFO expired_keys: ${expired}`);
  t.ok(expired >= 100_000, 'every key counted as expired');
});

t.test('100k keys expiring at the same instant are reclaimed just as fast', async (t) => {
  // One absolute expiry ~1 s after the load is expected to finish (load time measured above).
  const at = Date.now() + 2 * loadMs + 1000;
  report(t, 'same PXAT', await massExpiry(t, 100_000, at));
});

t.test('lazy expiry: a PX 50 key read after 100 ms is gone', async (t) => {
  const r = await client();
  t.equal(await r.set('lazy', 'v', 'PX', 50), 'OK');
  t.equal(await r.get('lazy'), 'v', 'readable before its TTL');
  const pttl = await r.pttl('lazy');
  t.ok(pttl > 0 && pttl <= 50, `PTTL ${pttl} within (0, 50]`);
  await sleep(100);
  t.equal(await r.get('lazy'), null, 'GET after expiry returns nil');
  t.equal(await r.exists('lazy'), 0);
  t.equal(await r.pttl('lazy'), -2);
  // The same through every read path, with keys expired 50 ms ago (lazy or active, never visible).
  await r.set('lazy2', 'x', 'PX', 30);
  await r.mset('lazy3', 'y');
  await r.pexpire('lazy3', 30);
  await sleep(80);
  t.same(await r.mget('lazy2', 'lazy3'), [null, null], 'MGET');
  t.equal(await r.strlen('lazy2'), 0, 'STRLEN');
  t.equal(await r.type('lazy3'), 'none', 'TYPE');
  t.equal(await r.incr('lazy2'), 1, 'INCR starts from 0 on an expired key');
  t.equal(await r.ttl('lazy2'), -1, 'and the new key has no TTL');
});

t.test(`keys with TTLs in all ${SHARDS} shards expire; longer TTLs survive`, async (t) => {
  const r = await client();
  await r.flushall();
  const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
  const short: string[] = [];
  const long: string[] = [];
  for (let i = 0; i < 400; i++) (i % 4 === 0 ? long : short).push(`ttl:{${i}}`);
  const shardsOf = (ks: string[]): number => new Set(ks.map(shardOf)).size;
  t.equal(shardsOf(short), SHARDS, 'short-TTL keys in every shard');
  t.equal(shardsOf(long), SHARDS, 'long-TTL keys in every shard');
  const p = r.pipeline();
  for (const k of short) p.set(k, 's', 'PX', 300);
  for (const k of long) p.set(k, 'l', 'EX', 100);
  await p.exec();
  t.equal(await r.dbsize(), 400);
  const t0 = Date.now();
  let n = 400;
  while (Date.now() - t0 < 5000 && (n = await r.dbsize()) > long.length) await sleep(10);
  t.comment(`short-TTL keys reclaimed ${Date.now() - t0} ms after being set (TTL 300 ms)`);
  t.equal(n, long.length, 'only the long-TTL keys remain');
  t.equal(await r.exists(...short), 0, 'no short-TTL key is visible');
  t.equal(await r.exists(...long), long.length, 'every long-TTL key is still there');
  const ttls = await Promise.all(long.slice(0, 20).map((k) => r.ttl(k)));
  t.ok(
    ttls.every((x) => x > 90 && x <= 100),
    `remaining TTLs ${Math.min(...ttls)}..${Math.max(...ttls)} s`,
  );
  const info = await r.info('keyspace');
  t.match(info, new RegExp(`db0:keys=${long.length},expires=${long.length},`), 'INFO keyspace sums shards');
});
