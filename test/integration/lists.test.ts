/**
 * List commands against a real redis-server 7.0 (the oracle), with Tessera on 3 shards so the
 * multi-key commands also cross shards: fixed sequences compared byte for byte (errors and their
 * order, RESP2 and RESP3 null shapes, the blocking commands' non-blocking outcomes outside and
 * inside MULTI, timeout parsing), seeded random sequences over keys where lists and strings
 * collide (every reply and then every key's contents compared), the keyspace events, ioredis
 * with elements and lists larger than a quicklist node, and LMOVE/LMPOP between shards.
 * LIST_SEED=<n> replays one seed; LIST_STEPS sets the length of each sequence.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startOraclePair } from '../helpers/raw.ts';
import { RawClient, type Arg } from '../helpers/resp-client.ts';
import { show } from '../helpers/diff-gen.ts';
import { keyEvents } from '../helpers/keyevents.ts';
import { LIST_KEYS, listGenerator } from '../helpers/list-gen.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 3;
const { tes, red } = await startOraclePair(t, ['--shards', String(SHARDS)]);
const STEPS = Number(process.env.LIST_STEPS ?? 600);
const SEEDS = process.env.LIST_SEED ? [Number(process.env.LIST_SEED)] : [1, 2, 3];

const clip = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);

async function pair(resp3: boolean): Promise<[RawClient, RawClient]> {
  const a = await RawClient.connect(tes.port);
  const b = await RawClient.connect(red.port);
  for (const c of [a, b]) {
    await c.call('FLUSHALL');
    if (resp3) await c.call('HELLO', '3');
  }
  return [a, b];
}

/** Sends `cmds` to both servers (pipelined); returns the first differing step or null. */
async function compare(a: RawClient, b: RawClient, cmds: Arg[][]): Promise<string | null> {
  const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
  for (let i = 0; i < cmds.length; i++) {
    if (ra[i] !== rb[i]) return `${show(cmds[i]!)}\n  tessera: ${clip(ra[i]!)}\n  redis:   ${clip(rb[i]!)}`;
  }
  return null;
}

const BIG = Buffer.alloc(20_000, 'Z');
const FIXED: Arg[][] = [
  ['RPUSH', 'k', 'a', 'b', 'c', 'a', 'b', 'a'],
  ['LPUSH', 'k', 'z', 'y'],
  ['LRANGE', 'k', '0', '-1'],
  ['LRANGE', 'k', '-100', '100'],
  ['LRANGE', 'k', '5', '2'],
  ['LRANGE', 'k', '0', 'x'],
  ['LRANGE', 'nokey', '0', 'x'],
  ['LINDEX', 'k', '-1'],
  ['LINDEX', 'k', '99'],
  ['LINDEX', 'nokey', 'x'],
  ['LINDEX', 'k', 'x'],
  ['LSET', 'nokey', 'x', 'v'],
  ['LSET', 'k', 'x', 'v'],
  ['LSET', 'k', '100', 'v'],
  ['LSET', 'k', '-1', BIG],
  ['LINDEX', 'k', '-1'],
  ['LSET', 'k', '-1', 'back'],
  ['LINSERT', 'k', 'middle', 'a', 'b'],
  ['LINSERT', 'nokey', 'middle', 'a', 'b'],
  ['LINSERT', 'nokey', 'before', 'a', 'b'],
  ['LINSERT', 'k', 'BEFORE', 'a', 'A'],
  ['LINSERT', 'k', 'after', 'a', 'A2'],
  ['LINSERT', 'k', 'after', 'nope', 'x'],
  ['LPOS', 'k', 'a'],
  ['LPOS', 'k', 'a', 'RANK', '-1'],
  ['LPOS', 'k', 'a', 'RANK', '2', 'COUNT', '0'],
  ['LPOS', 'k', 'a', 'COUNT', '0', 'MAXLEN', '3'],
  ['LPOS', 'k', 'a', 'RANK', '-9223372036854775808', 'COUNT', '1'],
  ['LPOS', 'k', 'a', 'RANK', '-9223372036854775807'],
  ['LPOS', 'k', 'a', 'RANK', '0'],
  ['LPOS', 'k', 'a', 'RANK', 'x'],
  ['LPOS', 'k', 'a', 'COUNT', '-1'],
  ['LPOS', 'k', 'a', 'MAXLEN', 'x'],
  ['LPOS', 'k', 'a', 'RANK'],
  ['LPOS', 'nokey', 'a'],
  ['LPOS', 'nokey', 'a', 'COUNT', '2'],
  ['LPOS', 'k', 'nope', 'COUNT', '2'],
  ['LREM', 'k', '-1', 'a'],
  ['LREM', 'k', '0', 'A'],
  ['LREM', 'k', '9223372036854775808', 'a'],
  ['LREM', 'k', '-9223372036854775808', 'b'],
  ['LRANGE', 'k', '0', '-1'],
  ['LTRIM', 'k', '1', '-2'],
  ['LTRIM', 'nokey', 'x', '1'],
  ['LTRIM', 'nokey', '0', '1'],
  ['LRANGE', 'k', '0', '-1'],
  ['LPOP', 'k', '0'],
  ['LPOP', 'nokey', '0'],
  ['LPOP', 'nokey'],
  ['LPOP', 'k', '-1'],
  ['LPOP', 'k', '1', '2'],
  ['RPOP', 'k', '2'],
  ['LPUSHX', 'nokey', 'a'],
  ['RPUSHX', 'k', 'p', 'q'],
  ['OBJECT', 'ENCODING', 'k'],
  ['TYPE', 'k'],
  ['SET', 'str', 'v'],
  ['LPUSH', 'str', 'a'],
  ['LPOS', 'str', 'a', 'RANK', '0'],
  ['LPOS', 'str', 'a'],
  ['LMOVE', 'k', 'str', 'LEFT', 'LEFT'],
  ['LMOVE', 'k', 'k', 'LEFT', 'RIGHT'],
  ['LMOVE', 'k', 'k2', 'LEFT', 'UP'],
  ['LMOVE', 'nokey', 'str', 'LEFT', 'LEFT'],
  ['RPOPLPUSH', 'k', 'k2'],
  ['LMPOP', '0', 'k', 'LEFT'],
  ['LMPOP', 'x', 'k', 'LEFT'],
  ['LMPOP', '3', 'k', 'LEFT'],
  ['LMPOP', '9223372036854775807', 'k', 'LEFT'],
  ['LMPOP', '1', 'k', 'UP'],
  ['LMPOP', '1', 'k', 'LEFT', 'COUNT', '0'],
  ['LMPOP', '1', 'k', 'LEFT', 'COUNT', '1', 'COUNT', '1'],
  ['LMPOP', '2', 'nokey', 'k2', 'RIGHT', 'COUNT', '10'],
  ['LMPOP', '2', 'nokey', 'str', 'RIGHT'],
  ['LMPOP', '1', 'nokey', 'RIGHT'],
  // The blocking commands with data present, outside MULTI.
  ['RPUSH', 'b1', '1', '2', '3', '4'],
  ['BLPOP', 'nokey', 'b1', '0'],
  ['BRPOP', 'b1', 'nokey', '1.5'],
  ['BLMOVE', 'b1', 'b2', 'RIGHT', 'LEFT', '0'],
  ['BRPOPLPUSH', 'b2', 'b1', '0'],
  ['BLMPOP', '0', '2', 'nokey', 'b1', 'LEFT', 'COUNT', '5'],
  ['BLPOP', 'str', '0'],
  ['BLMOVE', 'str', 'b1', 'LEFT', 'LEFT', '0'],
  // Argument errors come before any key is looked at.
  ['BLPOP', 'b1', '-1'],
  ['BLPOP', 'b1', 'abc'],
  ['BLPOP', 'b1', '1e16'],
  ['BLPOP', 'b1', 'inf'],
  ['BLPOP', 'b1', 'nan'],
  ['BLPOP', 'b1', ' 1'],
  ['BLMOVE', 'b1', 'b2', 'UP', 'LEFT', '-1'],
  ['BLMOVE', 'b1', 'b2', 'LEFT', 'LEFT', '-1'],
  ['BRPOPLPUSH', 'b1', 'b2', 'x'],
  ['BLMPOP', '-1', '1', 'b1', 'LEFT'],
  ['BLMPOP', 'x', '1', 'b1', 'UP'],
  ['BLMPOP', '0', '1', 'b1', 'LEFT', 'COUNT', '0'],
  // Inside MULTI nothing blocks: null replies, errors in place, valid odd timeouts.
  ['MULTI'],
  ['BLMPOP', 'x', '0', 'b1', 'LEFT'],
  ['BLMPOP', '0', '5', 'b1', 'LEFT'],
  ['BLPOP', 'e1', 'e2', '0'],
  ['BRPOP', 'e1', '0x10'],
  ['BLMOVE', 'e1', 'e2', 'LEFT', 'LEFT', '-0.001'],
  ['BRPOPLPUSH', 'e1', 'e2', '9223372036854775'],
  ['BLMPOP', '0', '2', 'e1', 'e2', 'LEFT'],
  ['BLPOP', 'e1', '1e400'],
  // Long double edge cases of (long long)(t * 1000.0): boundaries, hex floats, under/overflow.
  ['BLPOP', 'e1', '9223372036854775.807'],
  ['BLPOP', 'e1', '9223372036854775.806'],
  ['BLPOP', 'e1', '9223372036854775.8071'],
  ['BLPOP', 'e1', '9223372036854775.8072'],
  ['BLPOP', 'e1', '0x83126e978d4fdf3bp-10'],
  ['BLPOP', 'e1', '-0x83126e978d4fdf3bp-73'],
  ['BLPOP', 'e1', '-0x83126e978d4fdf3cp-73'],
  ['BLPOP', 'e1', '9223372036854775'],
  ['BLPOP', 'e1', '0x1p3'],
  ['BLPOP', 'e1', '-0.0009'],
  ['BLPOP', 'e1', '-0.0015'],
  ['BLPOP', 'e1', '1e-5000'],
  ['BLPOP', 'e1', '1e4000'],
  ['BLPOP', 'e1', '1e5000'],
  ['BLPOP', 'e1', '+5'],
  ['BLPOP', 'e1', '.5e1'],
  ['BLPOP', 'str', '0'],
  ['RPUSH', 'e2', 'x', 'y'],
  ['BLMPOP', '0.5', '2', 'e1', 'e2', 'RIGHT', 'COUNT', '5'],
  ['EXEC'],
  ['EXISTS', 'e2'],
  ['DEL', 'k', 'k2', 'b1', 'b2', 'str'],
];

for (const resp3 of [false, true]) {
  t.test(`fixed list sequences agree byte for byte (RESP${resp3 ? 3 : 2})`, async (t) => {
    const [a, b] = await pair(resp3);
    try {
      for (const cmd of FIXED) {
        const bad = await compare(a, b, [cmd]);
        t.equal(bad, null, bad ?? show(cmd).slice(0, 100));
      }
    } finally {
      a.close();
      b.close();
    }
  });
}

t.test('BLMPOP with a malformed numkeys outside MULTI answers and the connection goes on', async (t) => {
  // The key positions are an error here (the router replies it): the blocking dispatcher must
  // not park the client waiting for a shard reply that never comes.
  const c = await RawClient.connect(tes.port);
  t.teardown(() => c.close());
  const r = await Promise.race([
    c.pipeline([['BLMPOP', '0', '0', 'b1', 'LEFT'], ['PING']]),
    new Promise<null>((res) => setTimeout(() => res(null), 3000)),
  ]);
  t.same(r, ['-ERR numkeys should be greater than 0', '+PONG'], 'answered within 3 s');
});

/** Every key's type and contents on both servers, compared. */
function probe(): Arg[][] {
  return LIST_KEYS.flatMap((k) => [
    ['TYPE', k],
    ['LRANGE', k, '0', '-1'],
  ]);
}

async function runSeed(seed: number, steps: number, resp3: boolean): Promise<string | null> {
  const [a, b] = await pair(resp3);
  try {
    const next = listGenerator(seed);
    for (let done = 0; done < steps; done += 25) {
      const batch: Arg[][] = [];
      for (let i = 0; i < 25 && done + i < steps; i++) batch.push(...next());
      const bad = (await compare(a, b, batch)) ?? (await compare(a, b, probe()));
      if (bad !== null) return `seed ${seed} RESP${resp3 ? 3 : 2}, batch at step ${done}: ${bad}`;
    }
    return null;
  } finally {
    a.close();
    b.close();
  }
}

t.test('random list sequences match redis-server (RESP2)', async (t) => {
  for (const seed of SEEDS) {
    const bad = await runSeed(seed, STEPS, false);
    t.equal(bad, null, bad ?? `seed ${seed}: ${STEPS} steps identical`);
  }
});

t.test('random list sequences match redis-server (RESP3)', async (t) => {
  const seed = process.env.LIST_SEED ? Number(process.env.LIST_SEED) : 101;
  const bad = await runSeed(seed, Math.ceil(STEPS / 2), true);
  t.equal(bad, null, bad ?? `seed ${seed}: RESP3 steps identical`);
});

t.test('keyspace events of the list commands match redis-server', async (t) => {
  const cmds: Arg[][] = [
    ['RPUSH', '{e}a', '1', '2', '3'],
    ['LPUSH', '{e}a', '0'],
    ['LPUSHX', '{e}none', '0'],
    ['LSET', '{e}a', '0', 'z'],
    ['LINSERT', '{e}a', 'AFTER', 'z', 'y'],
    ['LINSERT', '{e}a', 'AFTER', 'nope', 'y'],
    ['LREM', '{e}a', '0', 'y'],
    ['LREM', '{e}a', '0', 'nope'],
    ['LTRIM', '{e}a', '0', '-1'],
    ['LMOVE', '{e}a', '{e}b', 'LEFT', 'RIGHT'],
    ['RPOPLPUSH', '{e}a', '{e}a'],
    ['LPOP', '{e}a'],
    ['RPOP', '{e}a', '5'],
    ['RPUSH', '{e}c', 'x'],
    ['LMOVE', '{e}c', '{e}c', 'LEFT', 'LEFT'],
    ['LMPOP', '2', '{e}none', '{e}c', 'RIGHT', 'COUNT', '3'],
    ['RPUSH', '{e}d', '1', '2'],
    ['BLPOP', '{e}d', '0'],
    ['BLMOVE', '{e}d', '{e}b', 'LEFT', 'LEFT', '0'],
    ['LTRIM', '{e}b', '5', '1'],
  ];
  const got = await keyEvents(tes.port, cmds, '{e}end');
  const want = await keyEvents(red.port, cmds, '{e}end');
  t.ok(want.length > 20, `redis sent ${want.length} events`);
  t.same(got, want);
});

const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
const spread: string[] = [];
for (let i = 0; spread.length < SHARDS; i++) if (shardOf(`sk${i}`) === spread.length) spread.push(`sk${i}`);

t.test('LMOVE, RPOPLPUSH, LMPOP and BLMOVE between keys in different shards', async (t) => {
  const r = new Redis({ port: tes.port, maxRetriesPerRequest: 0 });
  t.teardown(() => r.disconnect());
  const [k0, k1, k2] = spread as [string, string, string];
  await r.del(k0, k1, k2);
  await r.rpush(k0, 'a', 'b', 'c');
  let moved: unknown;
  try {
    moved = await r.lmove(k0, k1, 'LEFT', 'RIGHT');
  } catch (err) {
    if (/across shards is not supported/.test((err as Error).message)) {
      t.todo('cross-shard executor has not landed', { todo: true }, (tt) => tt.end());
      return;
    }
    throw err;
  }
  t.equal(moved, 'a');
  t.equal(await r.rpoplpush(k0, k2), 'c');
  t.same(await r.lrange(k0, 0, -1), ['b']);
  t.same(await r.lrange(k1, 0, -1), ['a']);
  t.same(await r.lrange(k2, 0, -1), ['c']);
  t.same(await r.call('LMPOP', '3', 'nokey', k2, k1, 'LEFT', 'COUNT', '9'), [k2, ['c']]);
  t.equal(await r.exists(k2), 0, 'emptied source deleted');
  t.equal(await r.blmove(k0, k2, 'LEFT', 'LEFT', 0), 'b');
  t.equal(await r.exists(k0), 0);
  t.same(await r.blpop(k0, k1, 0), [k1, 'a']);
  t.same(await r.lrange(k2, 0, -1), ['b']);
});

t.test('ioredis: long lists, large elements, memory and encoding', async (t) => {
  const r = new Redis({ port: tes.port, maxRetriesPerRequest: 0 });
  t.teardown(() => r.disconnect());
  await r.del('big', 'long');
  const N = 20_000;
  const vals = Array.from({ length: N }, (_, i) => `item-${i}`);
  for (let i = 0; i < N; i += 1000) await r.rpush('long', ...vals.slice(i, i + 1000));
  t.equal(await r.llen('long'), N);
  t.equal(await r.lindex('long', 12_345), 'item-12345');
  t.equal(await r.lindex('long', -1), `item-${N - 1}`);
  t.same(await r.lrange('long', 9_998, 10_001), ['item-9998', 'item-9999', 'item-10000', 'item-10001']);
  t.equal(await r.lset('long', 10_000, 'changed'), 'OK');
  t.equal(await r.lpos('long', 'changed'), 10_000);
  t.equal(await r.linsert('long', 'BEFORE', 'changed', 'inserted'), N + 1);
  t.equal(await r.lindex('long', 10_001), 'changed');
  t.equal(await r.lrem('long', 0, 'inserted'), 1);
  const mem = Number(await r.memory('USAGE', 'long'));
  t.ok(mem > N * 8 && mem < N * 40, `MEMORY USAGE of ${N} small elements: ${mem}`);
  await r.ltrim('long', 100, 199);
  t.equal(await r.llen('long'), 100);
  t.equal(await r.lindex('long', 0), 'item-100');
  t.ok(Number(await r.memory('USAGE', 'long')) < mem / 20, 'memory released by LTRIM');

  const big = Buffer.alloc(3 * 1024 * 1024, 'q');
  big.write('head', 0);
  await r.rpush('big', 'small', big, 'small2');
  t.equal(await r.object('ENCODING', 'big'), 'quicklist');
  t.equal(await r.type('big'), 'list');
  const got = await r.lindexBuffer('big', 1);
  t.equal(got?.length, big.length);
  t.ok(got !== null && got.equals(big), 'a 3 MiB element round-trips');
  t.ok(Number(await r.memory('USAGE', 'big')) > big.length, 'MEMORY USAGE counts the large element');
  await r.lset('big', 1, 'tiny');
  t.ok(Number(await r.memory('USAGE', 'big')) < 100_000, 'LSET released the large element');
  t.same(await r.lpop('big', 5), ['small', 'tiny', 'small2']);
  t.equal(await r.exists('big'), 0);
});
