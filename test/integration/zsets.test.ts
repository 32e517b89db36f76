/**
 * Sorted sets against a real redis-server 7.0.15: seeded random command sequences (every zset
 * command, mixed with strings for WRONGTYPE, over listpack and skiplist encodings) must get
 * byte-identical replies in RESP2 and RESP3; ioredis checks the client-library view, random
 * picks and scans are checked by their properties, and ZRANK WITHSCORE (Redis 7.2, which the
 * 7.0 oracle rejects) against fixed answers. ZSEED=<n> replays one seed; ZSTEPS sets the length.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis, startTessera } from '../helpers/server.ts';
import { RawClient, type Arg } from '../helpers/resp-client.ts';
import { show } from '../helpers/diff-gen.ts';
import type { TT } from '../helpers/raw.ts';
import { normaliseZ, ZKEYS, zsetGenerator, type ZStep } from '../helpers/zset-gen.ts';

const STEPS = Number(process.env.ZSTEPS ?? 1500);
const SEEDS = process.env.ZSEED ? [Number(process.env.ZSEED)] : [11, 12, 13];
const RESP3_SEEDS = process.env.ZSEED ? [Number(process.env.ZSEED)] : [111];
const BATCH = 50;

const tess = await startTessera(['--shards', '1']);
const redis = await startRedis();
t.teardown(async () => {
  await tess.stop();
  await redis.stop();
});

async function runSeed(seed: number, steps: number, resp: 2 | 3): Promise<string | null> {
  const a = await RawClient.connect(tess.port);
  const b = await RawClient.connect(redis.port);
  try {
    for (const c of [a, b]) {
      await c.call('FLUSHALL');
      if (resp === 3) await c.call('HELLO', '3');
    }
    const next = zsetGenerator(seed);
    const probe: Arg[][] = ZKEYS.map((k) => ['ZRANGE', k, '0', '-1', 'WITHSCORES']);
    for (let done = 0; done < steps; done += BATCH) {
      const batch: ZStep[] = Array.from({ length: Math.min(BATCH, steps - done) }, next);
      const cmds = batch.map((s) => s.cmd);
      const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
      for (let i = 0; i < cmds.length; i++) {
        if (normaliseZ(ra[i]!, batch[i]!) === normaliseZ(rb[i]!, batch[i]!)) continue;
        return [
          `seed ${seed} (RESP${resp}) step ${done + i}: ${show(cmds[i]!)}`,
          `  tessera: ${ra[i]}`,
          `  redis:   ${rb[i]}`,
          `  previous: ${cmds
            .slice(Math.max(0, i - 6), i)
            .map(show)
            .join(' | ')}`,
        ].join('\n');
      }
      // The whole keyspace must agree after every batch, not only the replies.
      const [pa, pb] = await Promise.all([a.pipeline(probe), b.pipeline(probe)]);
      for (let k = 0; k < probe.length; k++) {
        if (pa[k] !== pb[k])
          return `seed ${seed} after step ${done + cmds.length}: ${ZKEYS[k]} is ${pa[k]} vs ${pb[k]}`;
      }
    }
    return null;
  } finally {
    a.close();
    b.close();
  }
}

t.test('random sorted-set command sequences match redis-server (RESP2)', async (t) => {
  for (const seed of SEEDS) {
    const bad = await runSeed(seed, STEPS, 2);
    t.equal(bad, null, bad ?? `seed ${seed}: ${STEPS} replies identical`);
  }
});

t.test('random sorted-set command sequences match redis-server (RESP3)', async (t) => {
  for (const seed of RESP3_SEEDS) {
    const bad = await runSeed(seed, Math.floor(STEPS / 2), 3);
    t.equal(bad, null, bad ?? `seed ${seed}: RESP3 replies identical`);
  }
});

/** Runs fixed commands on both servers and compares every reply. */
async function same(t: TT, cmds: Arg[][], resp: 2 | 3 = 2): Promise<void> {
  const a = await RawClient.connect(tess.port);
  const b = await RawClient.connect(redis.port);
  try {
    if (resp === 3) await Promise.all([a.call('HELLO', '3'), b.call('HELLO', '3')]);
    const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
    for (let i = 0; i < cmds.length; i++) if (ra[i] !== rb[i]) t.equal(ra[i], rb[i], show(cmds[i]!));
    t.same(ra, rb, `${cmds.length} replies identical (RESP${resp})`);
  } finally {
    a.close();
    b.close();
  }
}

t.test('encodings, conversions and large sets agree with redis-server', async (t) => {
  const big: string[] = [];
  for (let i = 0; i < 1000; i++) big.push(String((i * 7919) % 101), `member-${i}`);
  const cmds: Arg[][] = [
    ['FLUSHALL'],
    ['ZADD', 'lp', '1', 'a', '2', 'b'],
    ['OBJECT', 'ENCODING', 'lp'],
    ['ZADD', 'lp', '3', 'x'.repeat(65)],
    ['OBJECT', 'ENCODING', 'lp'],
    ['ZREM', 'lp', 'x'.repeat(65)],
    ['OBJECT', 'ENCODING', 'lp'],
    ['ZADD', 'long', '1', 'y'.repeat(65)],
    ['OBJECT', 'ENCODING', 'long'],
    ['ZADD', 'big', ...big],
    ['OBJECT', 'ENCODING', 'big'],
    ['ZCARD', 'big'],
    ['ZRANGE', 'big', '100', '120', 'WITHSCORES'],
    ['ZRANGE', 'big', '-30', '-1', 'REV', 'WITHSCORES'],
    ['ZRANGE', 'big', '(50', '60', 'BYSCORE', 'LIMIT', '5', '20', 'WITHSCORES'],
    ['ZRANGE', 'big', '60', '(50', 'BYSCORE', 'REV', 'LIMIT', '5', '20'],
    ['ZRANK', 'big', 'member-500'],
    ['ZREVRANK', 'big', 'member-500'],
    ['ZCOUNT', 'big', '10', '(20'],
    ['ZLEXCOUNT', 'big', '-', '+'],
    ['ZRANGESTORE', 'part', 'big', '0', '99'],
    ['OBJECT', 'ENCODING', 'part'],
    ['ZRANGESTORE', 'part2', 'big', '0', '199'],
    ['OBJECT', 'ENCODING', 'part2'],
    ['ZUNIONSTORE', 'u', '2', 'part', 'lp', 'WEIGHTS', '2', '0.5'],
    ['OBJECT', 'ENCODING', 'u'],
    ['ZINTERSTORE', 'i', '2', 'big', 'part2', 'AGGREGATE', 'MAX'],
    ['OBJECT', 'ENCODING', 'i'],
    ['ZRANGE', 'i', '0', '-1', 'WITHSCORES'],
    ['ZDIFFSTORE', 'd', '2', 'big', 'part2'],
    ['ZCARD', 'd'],
    ['OBJECT', 'ENCODING', 'd'],
    ['ZREMRANGEBYRANK', 'big', '10', '500'],
    ['ZREMRANGEBYSCORE', 'big', '(90', '+inf'],
    ['ZPOPMIN', 'big', '5'],
    ['ZPOPMAX', 'big', '5'],
    ['ZRANGE', 'big', '0', '-1', 'WITHSCORES'],
    ['OBJECT', 'ENCODING', 'big'],
    ['ZRANDMEMBER', 'big', '100000', 'WITHSCORES'],
    ['ZADD', 'k', '1', 'a'],
    ['EXPIRE', 'k', '100'],
    ['ZUNIONSTORE', 'k', '1', 'lp'],
    ['TTL', 'k'],
    ['MULTI'],
    ['BZPOPMIN', 'nokey', 'lp', '0'],
    ['BZPOPMAX', 'nokey', '0'],
    ['BZMPOP', '0', '2', 'nokey', 'lp', 'MAX', 'COUNT', '5'],
    ['BZMPOP', '0', '1', 'nokey', 'MIN'],
    ['BZPOPMIN', 'nokey', '-1'],
    ['BZPOPMIN', 'nokey', 'inf'],
    ['BZPOPMIN', 'nokey', 'x'],
    ['BZPOPMIN', 'nokey', '-0.0001'],
    ['BZMPOP', 'x', '1', 'nokey', 'MIN'],
    ['EXEC'],
    ['EXISTS', 'lp'],
  ];
  await same(t, cmds);
  await same(t, cmds, 3);
});

t.test('ZRANK/ZREVRANK WITHSCORE (Redis 7.2 replies; the 7.0 oracle has no such option)', async (t) => {
  const c = await RawClient.connect(tess.port);
  t.teardown(() => c.close());
  const r = await c.pipeline([
    ['DEL', 'wr'],
    ['ZADD', 'wr', '1.5', 'a', '2', 'b', 'inf', 'c'],
    ['ZRANK', 'wr', 'b', 'WITHSCORE'],
    ['ZREVRANK', 'wr', 'c', 'withscore'],
    ['ZRANK', 'wr', 'nope', 'WITHSCORE'],
    ['ZRANK', 'nokey', 'a', 'WITHSCORE'],
    ['ZRANK', 'nokey', 'a'],
    ['ZRANK', 'wr', 'a', 'WITHSCORES'],
    ['ZRANK', 'wr', 'a', 'WITHSCORE', 'x'],
    ['HELLO', '3'],
    ['ZRANK', 'wr', 'a', 'WITHSCORE'],
    ['ZRANK', 'wr', 'nope', 'WITHSCORE'],
  ]);
  t.same(r.slice(2, 9), [
    '*[:1, $"2"]',
    '*[:0, $"inf"]',
    '*-1',
    '*-1',
    '$-1',
    '-ERR syntax error',
    "-ERR wrong number of arguments for 'zrank' command",
  ]);
  t.same(r.slice(10), ['*[:0, ,1.5]', '_']);
});

t.test('ioredis: scores, random picks and a full scan of a skiplist', async (t) => {
  const io = new Redis(tess.port, { lazyConnect: true });
  await io.connect();
  t.teardown(() => io.disconnect());
  await io.del('io', 'io2');
  t.equal(await io.zadd('io', 1, 'one', 2, 'two', 3, 'three'), 3);
  t.equal(await io.zscore('io', 'two'), '2');
  t.same(await io.zrange('io', 0, -1, 'WITHSCORES'), ['one', '1', 'two', '2', 'three', '3']);
  t.equal(await io.zincrby('io', '0.1', 'one'), '1.1000000000000001');
  t.same(await io.zmscore('io', 'one', 'nope'), ['1.1000000000000001', null]);
  const members = new Set(['one', 'two', 'three']);
  const picks = (await io.zrandmember('io', -20)) as unknown as string[];
  t.equal(picks.length, 20);
  t.ok(
    picks.every((m) => members.has(m)),
    'negative count: members of the set, repeats allowed',
  );
  const uniq = (await io.zrandmember('io', 2)) as unknown as string[];
  t.equal(new Set(uniq).size, 2, 'positive count: distinct');
  t.ok(uniq.every((m) => members.has(m)));
  const args: (string | number)[] = [];
  for (let i = 0; i < 3000; i++) args.push(i % 13, `s${i}`);
  await io.zadd('io2', ...args);
  t.equal(await io.object('ENCODING', 'io2'), 'skiplist');
  const seen = new Map<string, string>();
  let cursor = '0';
  let calls = 0;
  do {
    const [next, flat] = await io.zscan('io2', cursor, 'COUNT', 100);
    for (let i = 0; i < flat.length; i += 2) seen.set(flat[i]!, flat[i + 1]!);
    cursor = next;
    calls++;
  } while (cursor !== '0' && calls < 1000);
  t.equal(seen.size, 3000, 'ZSCAN visits every member');
  t.equal(seen.get('s14'), '1');
  t.ok(calls > 1, `iterated in ${calls} calls`);
  const rand = (await io.zrandmember('io2', 50, 'WITHSCORES')) as unknown as string[];
  t.equal(rand.length, 100);
  for (let i = 0; i < rand.length; i += 2) t.equal(rand[i + 1], String(Number(rand[i]!.slice(1)) % 13));
});

t.test('ZUNIONSTORE with keys in different shards', async (t) => {
  const s3 = await startTessera(['--shards', '3']);
  t.teardown(() => s3.stop());
  const c = await RawClient.connect(s3.port);
  t.teardown(() => c.close());
  // Find keys that land in different shards by trying a few and reading the error, if any.
  const r = await c.pipeline([
    ['ZADD', 'za', '1', 'a', '2', 'b'],
    ['ZADD', 'zb', '3', 'b', '4', 'c'],
    ['ZADD', 'zc', '5', 'c'],
    ['ZUNIONSTORE', 'zdst', '3', 'za', 'zb', 'zc'],
    ['ZRANGE', 'zdst', '0', '-1', 'WITHSCORES'],
    ['ZADD', '{h}1', '1', 'a'],
    ['ZADD', '{h}2', '2', 'a'],
    ['ZUNIONSTORE', '{h}3', '2', '{h}1', '{h}2'],
    ['ZRANGE', '{h}3', '0', '-1', 'WITHSCORES'],
  ]);
  t.same(r.slice(7), [':1', '*[$"a", $"3"]'], 'keys sharing a hash tag work on one shard');
  const todo = r[3]!.includes('across shards is not supported yet')
    ? 'cross-shard ZUNIONSTORE waits for the cross-shard executor'
    : undefined;
  const opt = todo === undefined ? {} : { todo };
  t.equal(r[3], ':3', 'ZUNIONSTORE over three shards', opt);
  t.equal(r[4], '*[$"a", $"1", $"b", $"5", $"c", $"9"]', 'its result', opt);
});

t.test('keyspace events of every zset write match redis-server', async (t) => {
  const cmds: Arg[][] = [
    ['FLUSHALL'],
    ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'],
    ['ZADD', 'e', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'f'],
    ['ZADD', 'e', '1', 'a'],
    ['ZADD', 'e', 'INCR', '1', 'a'],
    ['ZINCRBY', 'e', '0', 'a'],
    ['ZREM', 'e', 'nope'],
    ['ZREM', 'e', 'a'],
    ['ZREMRANGEBYRANK', 'e', '0', '0'],
    ['ZREMRANGEBYSCORE', 'e', '3', '3'],
    ['ZREMRANGEBYLEX', 'e', '[d', '[d'],
    ['ZADD', 'e', '0', 'x', '0', 'y'],
    ['ZPOPMIN', 'e'],
    ['ZPOPMAX', 'e', '5'],
    ['ZADD', 'e2', '1', 'a', '2', 'b'],
    ['ZADD', 'e3', '2', 'b'],
    ['ZUNIONSTORE', 'u', '2', 'e2', 'e3'],
    ['ZINTERSTORE', 'u', '2', 'e2', 'e3'],
    ['ZDIFFSTORE', 'u', '2', 'e2', 'e2'],
    ['ZRANGESTORE', 'r', 'e2', '0', '0'],
    ['ZRANGESTORE', 'r', 'nokey', '0', '0'],
    ['ZMPOP', '2', 'nokey', 'e3', 'MIN'],
    ['MULTI'],
    ['BZPOPMIN', 'e2', '0'],
    ['BZMPOP', '0', '1', 'e2', 'MAX'],
    ['EXEC'],
    ['SET', 'marker', 'x'],
  ];
  const collect = async (port: number): Promise<string[]> => {
    const sub = new Redis(port, { lazyConnect: true });
    await sub.connect();
    const events: string[] = [];
    const done = new Promise<void>((resolve) => {
      sub.on('pmessage', (_p: string, ch: string, key: string) => {
        events.push(`${ch.replace('__keyevent@0__:', '')} ${key}`);
        if (key === 'marker') resolve();
      });
    });
    await sub.psubscribe('__keyevent@0__:*');
    const c = await RawClient.connect(port);
    await c.pipeline(cmds);
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    c.close();
    sub.disconnect();
    return events;
  };
  const [a, b] = [await collect(tess.port), await collect(redis.port)];
  t.ok(b.length > 20, `redis-server sent ${b.length} events`);
  t.same(a, b, 'same events in the same order');
});
