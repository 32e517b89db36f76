/**
 * Hash and set commands against a real redis-server 7.0 (the oracle): fixed sequences compared
 * exactly (encodings, orders Redis defines, errors, RESP2 and RESP3 shapes), seeded random
 * sequences over a keyspace where hashes, sets and strings collide (with the encoding and the
 * contents of every key compared after each step), ioredis, and a 3-shard Tessera whose keys
 * sit in different shards. Replies Redis leaves unordered are compared sorted; random picks by
 * shape; SPOP re-aligns the two servers after each differing pop.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { rawConnect, replies, resp, splitReplies, startOraclePair, type TT } from '../helpers/raw.ts';
import { startTessera } from '../helpers/server.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';
import { hsGenerator, HS_KEYS, type HsStep } from '../helpers/hash-set-gen.ts';
import { HASH_FIXED, RANDOM_FIXED, SET_FIXED, UNORDERED } from '../helpers/hash-set-fixed.ts';
import type { Arg } from '../helpers/resp-client.ts';
import {
  bulks,
  pairsRender,
  render,
  shapeRender,
  sortedRender,
  TreeClient,
  type Reply,
} from '../helpers/resp-tree.ts';

const { tes, red } = await startOraclePair(t, ['--shards', '1']);
/** A command for messages: long arguments and long argument lists abbreviated. */
function show(cmd: Arg[]): string {
  const parts = cmd
    .slice(0, 12)
    .map((a) => (String(a).length > 40 ? `<${String(a).length} bytes>` : JSON.stringify(String(a))));
  if (cmd.length > 12) parts.push(`… (${cmd.length} arguments)`);
  return parts.join(' ');
}

async function pair(resp3: boolean): Promise<[TreeClient, TreeClient]> {
  const a = await TreeClient.connect(tes.port);
  const b = await TreeClient.connect(red.port);
  for (const c of [a, b]) if (resp3) await c.call('HELLO', '3');
  return [a, b];
}

/** Each command on both servers in turn; every reply must match exactly (or sorted, see UNORDERED). */
async function diff(tt: TT, cmds: Arg[][], resp3: boolean): Promise<void> {
  const [a, b] = await pair(resp3);
  try {
    for (const step of cmds) {
      const how = step[0] === UNORDERED ? sortedRender : render;
      const cmd = step[0] === UNORDERED ? step.slice(1) : step;
      const got = how(await a.call(...cmd));
      const want = how(await b.call(...cmd));
      tt.equal(got, want, got === want ? show(cmd) : `${show(cmd)}: got ${got} want ${want}`);
    }
  } finally {
    a.close();
    b.close();
  }
}

for (const resp3 of [false, true]) {
  const p = resp3 ? 'RESP3' : 'RESP2';
  t.test(`hashes: replies, listpack order, encodings, errors (${p})`, (t) => diff(t, HASH_FIXED, resp3));
  t.test(`sets: replies, intset order, encodings, errors (${p})`, (t) => diff(t, SET_FIXED, resp3));
  t.test(`HRANDFIELD/SRANDMEMBER/HSCAN/SSCAN deterministic cases (${p})`, (t) =>
    diff(t, RANDOM_FIXED, resp3),
  );
}

/** Every element a full HSCAN/SSCAN iteration returns, deduplicated and sorted (or its error). */
async function fullScan(c: TreeClient, cmd: Arg[]): Promise<string> {
  const seen = new Set<string>();
  let cursor = String(cmd[2]);
  for (let n = 0; n < 10_000; n++) {
    const r = await c.call(cmd[0]!, cmd[1]!, cursor, ...cmd.slice(3));
    if (r.t !== '*') return render(r);
    const [cur, items] = r.v as Reply[];
    cursor = cur!.v as string;
    const xs = bulks(items!);
    if (cmd[0] === 'HSCAN') for (let i = 0; i + 1 < xs.length; i += 2) seen.add(`${xs[i]}=${xs[i + 1]}`);
    else for (const x of xs) seen.add(x);
    if (cursor === '0') break;
  }
  return [...seen].sort().join('|');
}

/** Runs one step on both servers; returns a description of the mismatch or null. */
async function step(
  a: TreeClient,
  b: TreeClient,
  st: HsStep,
  enc: Map<string, string>,
): Promise<string | null> {
  if (st.cmp === 'scan') {
    const [x, y] = await Promise.all([fullScan(a, st.cmd), fullScan(b, st.cmd)]);
    return x === y ? null : `full scan: got ${x} want ${y}`;
  }
  const [ra, rb] = await Promise.all([a.call(...st.cmd), b.call(...st.cmd)]);
  const key = String(st.cmd[1]);
  let how = render;
  if (st.cmp === 'sorted') how = sortedRender;
  else if (st.cmp === 'shape') how = shapeRender;
  else if (st.cmp === 'order' && enc.get(key) !== 'listpack' && enc.get(key) !== 'intset') {
    how = st.cmd[0] === 'HGETALL' ? pairsRender : sortedRender;
  } else if (st.cmp === 'spop') {
    if (sortedRender(ra) === sortedRender(rb)) return null;
    if (shapeRender(ra) !== shapeRender(rb)) return `got ${render(ra)} want ${render(rb)}`;
    // Different random pops: each server takes its own back, then both drop Tessera's.
    const mine = bulks(ra);
    await Promise.all([a.call('SADD', key, ...mine), b.call('SADD', key, ...bulks(rb))]);
    await Promise.all([a.call('SREM', key, ...mine), b.call('SREM', key, ...mine)]);
    return null;
  }
  const [x, y] = [how(ra), how(rb)];
  return x === y ? null : `got ${x} want ${y}`;
}

const PROBE: Arg[][] = HS_KEYS.flatMap((k) => [
  ['OBJECT', 'ENCODING', k],
  ['HGETALL', k],
  ['SMEMBERS', k],
  ['TYPE', k],
]);

async function runSeed(seed: number, steps: number, resp3: boolean): Promise<string | null> {
  const [a, b] = await pair(resp3);
  try {
    await Promise.all([a.call('FLUSHALL'), b.call('FLUSHALL')]);
    const next = hsGenerator(seed);
    const enc = new Map<string, string>();
    const recent: string[] = [];
    for (let i = 0; i < steps; i++) {
      const st = next();
      recent.push(show(st.cmd));
      const ctx = (): string =>
        `seed ${seed} step ${i}: ${show(st.cmd)}\n  previous: ${recent.slice(-6, -1).join(' | ')}`;
      const bad = await step(a, b, st, enc);
      if (bad !== null) return `${ctx()}\n  ${bad}`;
      // Every key's encoding, contents and type must agree after every step.
      const [pa, pb] = await Promise.all([a.pipeline(PROBE), b.pipeline(PROBE)]);
      for (let j = 0; j < PROBE.length; j++) {
        const how = j % 4 === 1 ? pairsRender : j % 4 === 2 ? sortedRender : render;
        const [x, y] = [how(pa[j]!), how(pb[j]!)];
        if (x !== y) return `${ctx()}\n  then ${show(PROBE[j]!)}: got ${x} want ${y}`;
        if (j % 4 === 0) enc.set(String(PROBE[j]![2]), String(pb[j]!.v));
      }
    }
    return null;
  } finally {
    a.close();
    b.close();
  }
}

const SEEDS = process.env.HS_SEED ? [Number(process.env.HS_SEED)] : [1, 2, 3];
const STEPS = Number(process.env.HS_STEPS ?? 500);

t.test('random hash/set/string sequences match redis-server (RESP2)', async (t) => {
  for (const seed of SEEDS) {
    const bad = await runSeed(seed, STEPS, false);
    t.equal(bad, null, bad ?? `HS_SEED=${seed}: ${STEPS} steps agree`);
  }
});

t.test('random sequences match redis-server under RESP3', async (t) => {
  const bad = await runSeed(101, 300, true);
  t.equal(bad, null, bad ?? 'HS_SEED=101: 300 RESP3 steps agree');
});

t.test('HSCAN/SSCAN of a hashtable return every element present throughout, despite deletes', async (t) => {
  const c = new Redis(tes.port);
  t.teardown(() => c.disconnect());
  await c.del('hs', 'ss');
  await c.hset('hs', Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`f${i}`, `${i}`])));
  await c.sadd('ss', ...Array.from({ length: 600 }, (_, i) => `m${i}`));
  t.same([await c.object('ENCODING', 'hs'), await c.object('ENCODING', 'ss')], ['hashtable', 'hashtable']);
  const seenH = new Set<string>();
  const seenS = new Set<string>();
  let ch = '0';
  let cs = '0';
  let round = 0;
  do {
    const [nh, items] = ch === 'done' ? ['done', []] : await c.hscan('hs', ch, 'COUNT', 17);
    const [ns, members] = cs === 'done' ? ['done', []] : await c.sscan('ss', cs, 'COUNT', 13);
    for (let i = 0; i < items.length; i += 2) seenH.add(items[i]!);
    for (const m of members) seenS.add(m);
    // Delete odd ones as we go: they may or may not be returned; the even ones must be.
    await c.hdel('hs', `f${2 * round + 1}`);
    await c.srem('ss', `m${2 * round + 1}`);
    ch = nh === '0' ? 'done' : nh;
    cs = ns === '0' ? 'done' : ns;
    round++;
  } while ((ch !== 'done' || cs !== 'done') && round < 1000);
  const lostH = Array.from({ length: 350 }, (_, i) => `f${i * 2}`).filter((f) => !seenH.has(f));
  const lostS = Array.from({ length: 300 }, (_, i) => `m${i * 2}`).filter((m) => !seenS.has(m));
  t.same([lostH, lostS], [[], []], `no element present for the whole scan was skipped (${round} rounds)`);
});

t.test('ioredis: objects, pipelines, numbers and MEMORY USAGE', async (t) => {
  const c = new Redis(tes.port);
  t.teardown(() => c.disconnect());
  await c.flushall();
  t.equal(await c.hset('u', { name: 'ada', age: 36 }), 2);
  t.same(await c.hgetall('u'), { name: 'ada', age: '36' });
  t.equal(await c.hincrby('u', 'age', 1), 37);
  t.equal(await c.hincrbyfloat('u', 'score', 1.5), '1.5');
  t.equal(await c.sadd('tags', 1, 2, 'x'), 3);
  t.same((await c.smembers('tags')).sort(), ['1', '2', 'x']);
  const res = await c.pipeline().sismember('tags', 'x').scard('tags').hlen('u').exec();
  t.same(
    res!.map(([, v]) => v),
    [1, 3, 3],
  );
  const small = Number(await c.memory('USAGE', 'u'));
  await c.hset(
    'u',
    Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`field:${i}`, 'x'.repeat(100)])),
  );
  const large = Number(await c.memory('USAGE', 'u'));
  t.ok(large > 1000 * 100, `MEMORY USAGE counts a 1000-field hash (${small} -> ${large})`);
  await c.hdel('u', ...Array.from({ length: 1000 }, (_, i) => `field:${i}`));
  t.ok(Number(await c.memory('USAGE', 'u')) < large / 2, 'and gives the bytes back when fields go');
});

/** Keys that land in shards 0, 1 and 2 of a 3-shard Tessera (contiguous slot ranges). */
function keysByShard(prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < 3; i++) {
    const k = `${prefix}${i}`;
    if (Math.floor((keySlotOfString(k) * 3) / 16384) === out.length) out.push(k);
  }
  return out;
}

t.test('multi-key set commands with keys in different shards give Redis answers', async (t) => {
  const tes3 = await startTessera(['--shards', '3']);
  const c3 = await TreeClient.connect(tes3.port);
  const b = await TreeClient.connect(red.port);
  t.teardown(async () => {
    c3.close();
    b.close();
    await tes3.stop();
  });
  const r = await c3.call('SINTER', ...keysByShard('p'));
  const todo = String(r.v).includes('across shards is not supported yet')
    ? 'cross-shard executor not landed yet'
    : undefined;
  const [k0, k1, k2] = keysByShard('s') as [string, string, string];
  const cmds: Arg[][] = [
    ['FLUSHALL'],
    ['SADD', k0, '1', '2', '3', '4'],
    ['SADD', k1, '3', '4', '5'],
    ['SET', k2, 'str'],
    ['SINTER', k0, k1],
    ['SUNION', k0, k1],
    ['SDIFF', k0, k1],
    ['SINTERCARD', '2', k0, k1, 'LIMIT', '1'],
    ['SINTER', k0, k2],
    ['SUNION', k2, k0],
    ['SINTERSTORE', k2, k0, k1],
    ['OBJECT', 'ENCODING', k2],
    ['SMEMBERS', k2],
    ['SUNIONSTORE', k2, k0, k1],
    ['SDIFFSTORE', k2, k1, k0],
    ['SMEMBERS', k2],
    ['SMOVE', k0, k1, '1'],
    ['SMOVE', k0, k1, 'nope'],
    ['SMEMBERS', k1],
    ['SMOVE', k2, k0, '5'],
    ['SMEMBERS', k0],
    ['EXISTS', k2],
    ['SDIFFSTORE', k2, k0, k0],
    ['EXISTS', k2],
  ];
  for (const cmd of cmds) {
    const got = render(await c3.call(...cmd));
    const want = render(await b.call(...cmd));
    const msg = got === want ? show(cmd) : `${show(cmd)}: got ${got} want ${want}`;
    t.equal(got, want, msg, todo === undefined ? {} : { todo });
  }
});

t.test('random picks: large counts work, absurd ones are refused instead of exhausting memory', async (t) => {
  const c = new Redis(tes.port);
  t.teardown(() => c.disconnect());
  await c.del('rh', 'rs');
  await c.hset('rh', 'a', '1', 'b', '2');
  await c.sadd('rs', 'x', 'y', 'z');
  t.equal(((await c.hrandfield('rh', -100_000, 'WITHVALUES')) as string[]).length, 200_000);
  t.equal((await c.srandmember('rs', -100_000)).length, 100_000);
  for (const cmd of [
    ['HRANDFIELD', 'rh', '-9223372036854775807'],
    ['HRANDFIELD', 'rh', '-4611686018427387903', 'WITHVALUES'],
    ['SRANDMEMBER', 'rs', '-9223372036854775807'],
  ]) {
    await t.rejects(c.call(cmd[0]!, ...cmd.slice(1)), /proto-max-bulk-len/, cmd.join(' '));
  }
  t.equal(await c.hlen('rh'), 2, 'the server still answers');
});

t.test('reads count keyspace hits and misses as Redis does, writes do not', async (t) => {
  const [a, b] = await pair(false);
  t.teardown(() => {
    a.close();
    b.close();
  });
  const stats = async (c: TreeClient): Promise<number[]> => {
    const info = String((await c.call('INFO', 'stats')).v);
    return ['keyspace_hits', 'keyspace_misses'].map((k) => Number(new RegExp(`${k}:(\\d+)`).exec(info)![1]));
  };
  const cmds: Arg[][] = [
    ['HSET', 'h', 'a', '1'],
    ['SADD', 's', '1', '2'],
    ['SADD', 't', '2'],
    ['HGET', 'h', 'a'],
    ['HGET', 'nokey', 'a'],
    ['HDEL', 'h', 'zz'],
    ['HINCRBY', 'h', 'c', '1'],
    ['HMGET', 'h', 'a', 'b'],
    ['HRANDFIELD', 'h'],
    ['HSCAN', 'h', '0'],
    ['HGETALL', 'h'],
    ['HEXISTS', 'str', 'a'],
    ['SINTER', 's', 't'],
    ['SINTERSTORE', 'd', 's', 't'],
    ['SUNIONSTORE', 'd', 's', 't', 'nokey'],
    ['SINTERCARD', '2', 's', 'nokey'],
    ['SMOVE', 's', 't', '1'],
    ['SPOP', 't'],
    ['SRANDMEMBER', 's'],
    ['SSCAN', 's', '0'],
    ['SMISMEMBER', 's', '1'],
    ['SREM', 's', '9'],
    ['SMEMBERS', 's'],
  ];
  await Promise.all([
    a.call('FLUSHALL'),
    b.call('FLUSHALL'),
    a.call('SET', 'str', 'x'),
    b.call('SET', 'str', 'x'),
  ]);
  await new Promise((r) => setTimeout(r, 150));
  const [a0, b0] = await Promise.all([stats(a), stats(b)]);
  for (const cmd of cmds) await Promise.all([a.call(...cmd), b.call(...cmd)]);
  // Shards publish their counters when idle: give them a moment.
  await new Promise((r) => setTimeout(r, 150));
  const [a1, b1] = await Promise.all([stats(a), stats(b)]);
  t.same(
    a1.map((v, i) => v - a0[i]!),
    b1.map((v, i) => v - b0[i]!),
    'keyspace_hits and keyspace_misses move by the same amounts',
  );
});

/** The keyevent notifications (channel and key, in order) that `cmds` raise on the server. */
async function keyEvents(port: number, cmds: Arg[][]): Promise<string[]> {
  const cmd = await rawConnect(port);
  const sub = await rawConnect(port);
  try {
    await cmd.ask(resp('FLUSHALL'), replies(1));
    await cmd.ask(resp('CONFIG', 'SET', 'notify-keyspace-events', 'KEA'), replies(1));
    await sub.ask(resp('PSUBSCRIBE', '__keyevent@*__:*'), replies(1));
    for (const c of cmds)
      await cmd.ask(resp(...c.map((a) => (Buffer.isBuffer(a) ? a : String(a)))), replies(1));
    // A message on a matching channel, published after every command replied, ends the list.
    await cmd.ask(resp('PUBLISH', '__keyevent@0__:end', 'end'), replies(1));
    await sub.until((b) => b.includes('__keyevent@0__:end'));
    await cmd.ask(resp('CONFIG', 'SET', 'notify-keyspace-events', ''), replies(1));
    const frames = splitReplies(sub.data()).slice(1);
    return frames.map((f) => f.split('\r\n')).map((p) => `${p[6]} ${p[8]}`);
  } finally {
    cmd.end();
    sub.end();
  }
}

t.test('keyspace events of hash and set commands match redis-server', async (t) => {
  const cmds: Arg[][] = [
    ['HSET', 'h', 'a', '1', 'b', '2'],
    ['HSETNX', 'h', 'a', 'x'],
    ['HSETNX', 'h', 'c', 'x'],
    ['HMSET', 'h', 'd', '1'],
    ['HINCRBY', 'h', 'a', '2'],
    ['HINCRBYFLOAT', 'h', 'f', '1.5'],
    ['HINCRBY', 'h', 'c', '1'],
    ['HDEL', 'h', 'nope'],
    ['HDEL', 'h', 'a', 'b', 'c', 'd', 'f'],
    ['SADD', 's', '1', '2', '3'],
    ['SADD', 's', '1'],
    ['SREM', 's', '9'],
    ['SREM', 's', '3'],
    ['SMOVE', 's', 't', '1'],
    ['SMOVE', 's', 't', '2'],
    ['SADD', 'u', '7'],
    ['SPOP', 'u'],
    ['SADD', 'u', '7', '8'],
    ['SPOP', 'u', '0'],
    ['SPOP', 'u', '5'],
    ['SADD', 'a', '1', '2'],
    ['SINTERSTORE', 'd', 'a', 't'],
    ['SUNIONSTORE', 'd', 'a', 't'],
    ['SDIFFSTORE', 'd', 'a', 'a'],
    ['SINTERSTORE', 'd', 'a', 'nokey'],
    ['SDIFFSTORE', 'd', 'a', 't'],
    ['SINTERSTORE', 'd', 'a', 'nokey'],
    ['SMEMBERS', 'a'],
    ['SRANDMEMBER', 'a', '-3'],
    ['HGETALL', 'h'],
  ];
  const [got, want] = [await keyEvents(tes.port, cmds), await keyEvents(red.port, cmds)];
  t.same(got, want, `${want.length} events in the same order`);
});
