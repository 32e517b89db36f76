/**
 * STATS: per-shard and total figures as a RESP3 map (flat pairs in RESP2); figures move after
 * commands; WAL fields count the bytes logged (and not yet fsynced) by the shards.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import { rawConnect, replies, resp } from '../helpers/raw.ts';

const tes = await startTessera(['--shards', '2', '--hz', '50']);
const r = new Redis({ port: tes.port, lazyConnect: true });
await r.connect();
t.teardown(async () => {
  r.disconnect();
  await tes.stop();
});

/** RESP2 [k, v, k, v…] → object, recursively for the nested maps. */
function pairs(a: unknown): Record<string, unknown> {
  const arr = a as unknown[];
  const o: Record<string, unknown> = {};
  for (let i = 0; i < arr.length; i += 2) {
    const v = arr[i + 1];
    o[String(arr[i])] = Array.isArray(v) ? pairs(v) : v;
  }
  return o;
}

const FIELDS = [
  'ops_per_sec',
  'ops',
  'keys',
  'expires',
  'memory_bytes',
  'ring_depth_bytes',
  'expired_keys',
  'evicted_keys',
  'wal_position',
  'wal_lag_bytes',
];

t.test('RESP2: flat pairs with per-shard and total figures that move', async (t) => {
  await r.flushall();
  const before = pairs(await r.call('STATS'));
  t.equal(before.shard_count, 2);
  const shards = before.shards as Record<string, Record<string, unknown>>;
  t.same(Object.keys(shards), ['0', '1'], 'one entry per shard');
  for (const f of FIELDS) t.ok(f in shards['0']!, `shard field ${f}`);
  const total = before.total as Record<string, unknown>;
  for (const f of [...FIELDS, 'connections', 'total_connections', 'rejected_connections'])
    t.ok(f in total, `total field ${f}`);
  t.type(total.wal_position, 'number', 'WAL position: bytes logged since start');
  t.type(total.wal_lag_bytes, 'number', 'WAL lag: bytes not yet fsynced');
  t.equal(total.evicted_keys, 0, 'no eviction');
  t.ok((total.connections as number) >= 1, 'counts this connection');

  const pipe = r.pipeline();
  for (let i = 0; i < 2000; i++) pipe.set(`stats:${i}`, 'v');
  pipe.set('stats:ttl', 'v', 'PX', 1);
  await pipe.exec();
  // Shards publish their figures at most ~100 ms apart; the cron samples ops every 100 ms.
  let after: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    await new Promise((res) => setTimeout(res, 50));
    after = pairs(await r.call('STATS'));
    const tot = after.total as Record<string, number>;
    if (tot.keys === 2000 && tot.ops_per_sec > 0 && tot.expired_keys >= 1) break;
  }
  const tot = after.total as Record<string, number>;
  const sh = after.shards as Record<string, Record<string, number>>;
  t.equal(tot.keys, 2000, 'keys counted (the 1 ms key expired)');
  t.ok(tot.expired_keys >= 1, 'expired keys counted');
  t.ok(tot.ops >= 2001, `ops counted (${tot.ops})`);
  t.ok(tot.ops_per_sec > 0, `ops/s over the last seconds (${tot.ops_per_sec})`);
  t.equal(sh['0']!.keys! + sh['1']!.keys!, tot.keys, 'total is the sum of the shards');
  t.ok(sh['0']!.keys! > 0 && sh['1']!.keys! > 0, 'both shards hold keys');
  t.ok(tot.memory_bytes > (before.total as Record<string, number>).memory_bytes, 'memory grew');
  t.ok((after.ops_window_ms as number) > 0 && (after.ops_window_ms as number) <= 5000, 'window ≤ 5 s');
});

t.test('RESP3: nested maps, WAL fields; arity and no-auth', async (t) => {
  const c = await rawConnect(tes.port);
  await c.ask(resp('HELLO', '3'), replies(1));
  const raw = await c.ask(resp('STATS'), replies(1));
  t.match(raw, /^%7\r\n/, 'a map of 7 fields');
  t.match(raw, /\$5\r\ntotal\r\n%13\r\n/, 'total is a nested map');
  t.match(raw, /\$6\r\nshards\r\n%2\r\n\$1\r\n0\r\n%10\r\n/, 'shards: a map of maps');
  t.match(raw, /\$12\r\nwal_position\r\n:\d+\r\n/, 'WAL position is an integer');
  t.equal(
    await c.ask(resp('STATS', 'x'), replies(1)),
    "-ERR wrong number of arguments for 'stats' command\r\n",
  );
  c.end();

  const s = await startTessera(['--requirepass', 'pw']);
  const d = await rawConnect(s.port);
  t.match(await d.ask(resp('STATS'), replies(1)), /^-NOAUTH/, 'needs AUTH like other commands');
  d.end();
  await s.stop();
});
