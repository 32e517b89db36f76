/**
 * SORT and SORT_RO, differential against redis-server 7.0.15 over sets, lists and sorted sets
 * with BY / GET patterns (strings and hash fields), LIMIT, ASC|DESC, ALPHA and STORE. The
 * collections come from other command families: each part runs only when the commands it
 * needs are in this build's table (COMMAND INFO), and says why it was skipped otherwise.
 *
 * Every key shares the hash tag {s}: BY/GET patterns name keys that are read from the shard
 * of the sorted key, which holds them only when they share its slot (Tessera runs 2 shards).
 *
 * Cases whose order Redis leaves to its own hash-table iteration are not compared (BY
 * <constant> over a hashtable set, ALPHA BY with equal or missing weights over sets).
 */
import t from 'tap';
import { startOraclePair, type TT } from '../helpers/raw.ts';
import { RawClient, type Arg } from '../helpers/resp-client.ts';
import { rng } from '../helpers/diff-gen.ts';

const { tes, red } = await startOraclePair(t, ['--shards', '2']);
const a = await RawClient.connect(tes.port);
const b = await RawClient.connect(red.port);
t.teardown(() => {
  a.close();
  b.close();
});

const has = async (...names: string[]): Promise<string | null> => {
  const missing: string[] = [];
  for (const n of names) if ((await a.call('COMMAND', 'INFO', n)) === '*[*-1]') missing.push(n);
  return missing.length === 0 ? null : `needs ${missing.join(', ')}, not in this build's command table yet`;
};

const show = (c: Arg[]): string =>
  c
    .map((x) => (Buffer.isBuffer(x) ? `<${x.length} bytes>` : String(x)))
    .join(' ')
    .slice(0, 160);

async function diff(tt: TT, cmds: Arg[][]): Promise<void> {
  const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
  let same = 0;
  for (let i = 0; i < cmds.length; i++) {
    if (ra[i] === rb[i]) same++;
    else tt.equal(ra[i], rb[i], show(cmds[i]!));
  }
  tt.equal(same, cmds.length, `${same}/${cmds.length} replies identical`);
}

/** Skips a subtest with its reason printed, when a needed command is missing. */
async function needs(tt: TT, ...names: string[]): Promise<boolean> {
  const why = await has(...names);
  if (why !== null) tt.ok(true, why, { skip: why });
  return why === null;
}

t.test('sets: numeric and ALPHA order, BY and GET patterns, LIMIT, errors', async (t) => {
  if (!(await needs(t, 'sadd', 'hset'))) return;
  await diff(t, [
    ['FLUSHALL'],
    ['SADD', '{s}s', '3', '1', '2', '10', '-5', '1.5'],
    ['SADD', '{s}i', '3', '1', '2', '-7', '100'],
    ['SORT', '{s}s'],
    ['SORT', '{s}s', 'DESC'],
    ['SORT', '{s}s', 'LIMIT', '1', '2'],
    ['SORT', '{s}s', 'LIMIT', '-5', '2'],
    ['SORT', '{s}s', 'LIMIT', '4', '100'],
    ['SORT', '{s}s', 'LIMIT', '6', '1'],
    ['SORT', '{s}s', 'LIMIT', '2', '0'],
    ['SORT', '{s}s', 'LIMIT', '2', '-3'],
    ['SORT', '{s}s', 'ALPHA'],
    ['SORT', '{s}s', 'alpha', 'desc', 'limit', '0', '3'],
    ['SORT', '{s}s', 'DESC', 'ASC'],
    ['SET', '{s}w_3', '30'],
    ['SET', '{s}w_1', '10'],
    ['SET', '{s}w_2', '5'],
    ['SET', '{s}w_10', '-1'],
    ['SORT', '{s}s', 'BY', '{s}w_*'],
    ['SORT', '{s}s', 'BY', '{s}w_*', 'DESC', 'LIMIT', '1', '3'],
    ['SORT', '{s}s', 'BY', '{s}w_*', 'GET', '#'],
    ['SORT', '{s}s', 'BY', '{s}w_*', 'GET', '{s}w_*', 'GET', '#', 'GET', '{s}nokey_*', 'GET', 'nostar'],
    ['HSET', '{s}h_3', 'f', 'a', 'g', '3'],
    ['HSET', '{s}h_1', 'f', 'b', 'g', '1'],
    ['HSET', '{s}h_2', 'f', 'c'],
    ['HSET', '{s}h_10', 'f', 'd', 'g', '-2.5'],
    ['HSET', '{s}h_-5', 'f', 'e', 'g', '7'],
    ['HSET', '{s}h_1.5', 'f', 'f', 'g', '1e3'],
    ['SORT', '{s}s', 'BY', '{s}w_*', 'GET', '{s}h_*->f', 'GET', '{s}h_*->', 'GET', '{s}h_*->nofield'],
    ['SORT', '{s}s', 'BY', '{s}h_*->f', 'ALPHA'],
    ['SORT', '{s}s', 'BY', '{s}h_*->f'],
    ['SORT', '{s}s', 'BY', '{s}h_*->g'],
    ['SORT', '{s}s', 'BY', '{s}h_*->g', 'DESC', 'GET', '{s}h_*->f'],
    ['SORT', '{s}s', 'BY', '{s}h_*->f', 'ALPHA', 'DESC', 'LIMIT', '1', '3', 'GET', '{s}h_*->f'],
    ['SORT', '{s}s', 'BY', '{s}w_*->f'],
    ['SORT', '{s}s', 'BY', '{s}h_*'],
    ['SORT', '{s}s', 'GET', '{s}h_*'],
    ['SORT_RO', '{s}s', 'BY', '{s}w_*', 'DESC'],
    ['SORT_RO', '{s}s', 'BY', '{s}w_*', 'STORE', '{s}d'],
    ['SORT', '{s}i', 'BY', 'nosort'],
    ['SORT', '{s}i', 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2'],
    ['SORT', '{s}i', 'BY', 'nosort', 'BY', '{s}w_*'],
    ['SADD', '{s}t', 'a', 'b', 'c', 'B', ''],
    ['SORT', '{s}t'],
    ['SORT', '{s}t', 'ALPHA'],
    ['SORT', '{s}t', 'ALPHA', 'DESC'],
    ['SET', '{s}x', '1'],
    ['SORT', '{s}x'],
    ['HSET', '{s}hh', 'a', '1'],
    ['SORT', '{s}hh'],
    ['SORT', '{s}s', 'STORE'],
    ['SORT', '{s}s', 'LIMIT', '1'],
    ['SORT', '{s}s', 'LIMIT', 'a', '1'],
    ['SORT', '{s}s', 'LIMIT', '1', '9223372036854775808'],
    ['SORT', '{s}s', 'FOO'],
    ['SORT', '{s}s', 'BY'],
    ['SORT', '{s}s', 'GET'],
    ['SORT', '{s}nokey'],
    ['SORT', '{s}nokey', 'BY', '{s}w_*', 'GET', '#', 'LIMIT', '0', '10'],
  ]);
});

t.test('scores: strtod rules and the conversion error', async (t) => {
  if (!(await needs(t, 'sadd'))) return;
  // Redis does not clear errno before its strtod: after an ERANGE every later SORT fails too,
  // until some other command clears errno (INCRBYFLOAT's parser does). Each out-of-range value
  // is therefore followed by an INCRBYFLOAT; Tessera judges every value on its own.
  const reset: Arg[] = ['INCRBYFLOAT', '{s}errno', '1'];
  const good = ['1e3', ' 7', '0x1A', '0x1.8p1', '-inf', 'inf', '.5', '5.', '+3', '0e-500', '-0', '1e308'];
  const bad = ['nan', '1 ', 'abc', '1e', '0x', '--1', '1.2.3', ' ', 'infinit', '1e400', '1e-400', '2.5e-310'];
  const cmds: Arg[][] = [['FLUSHALL'], reset];
  for (const v of [...good, ...bad])
    cmds.push(['DEL', '{s}v'], ['SADD', '{s}v', v, '2'], ['SORT', '{s}v'], reset);
  cmds.push(['DEL', '{s}v'], ['SADD', '{s}v', '', '-1', '1'], ['SORT', '{s}v'], ['SORT', '{s}v', 'DESC']);
  cmds.push(
    ['SADD', '{s}e', 'a', 'b'],
    ['SET', '{s}w_a', '1'],
    ['SET', '{s}w_b', 'x'],
    ['SORT', '{s}e', 'BY', '{s}w_*'],
  );
  cmds.push(['SORT', '{s}e', 'BY', '{s}w_*', 'ALPHA']);
  await diff(t, cmds);
});

t.test('lists: native order without sorting, DESC and LIMIT on it, sorting, STORE', async (t) => {
  if (!(await needs(t, 'rpush', 'lrange'))) return;
  await diff(t, [
    ['FLUSHALL'],
    ['RPUSH', '{s}l', '3', '1', '2', '10', '1', '-5', 'x'],
    ['SORT', '{s}l', 'BY', 'nosort'],
    ['SORT', '{s}l', 'BY', 'nosort', 'DESC'],
    ['SORT', '{s}l', 'BY', 'nosort', 'LIMIT', '1', '3'],
    ['SORT', '{s}l', 'BY', 'nosort', 'DESC', 'LIMIT', '1', '3'],
    ['SORT', '{s}l', 'BY', 'nosort', 'LIMIT', '10', '3'],
    ['SORT', '{s}l', 'BY', 'nosort', 'LIMIT', '0', '0'],
    ['SORT', '{s}l', 'BY', 'nosort', 'GET', '#', 'GET', '{s}w_*'],
    ['SORT', '{s}l'],
    ['SORT', '{s}l', 'ALPHA'],
    ['SORT', '{s}l', 'ALPHA', 'DESC', 'LIMIT', '2', '3'],
    ['SORT', '{s}l', 'ALPHA', 'STORE', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
    ['TYPE', '{s}d'],
    ['OBJECT', 'ENCODING', '{s}d'],
    ['SET', '{s}w_x', '100'],
    ['SET', '{s}w_1', '-1'],
    ['SORT', '{s}l', 'BY', '{s}w_*', 'STORE', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
    ['SORT', '{s}l', 'BY', '{s}w_*', 'GET', '{s}w_*', 'GET', '#', 'STORE', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
    ['SET', '{s}d', 'a string', 'EX', '100'],
    ['SORT', '{s}l', 'BY', 'nosort', 'STORE', '{s}d'],
    ['TTL', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
    ['SORT', '{s}l', 'STORE', '{s}l', 'ALPHA'],
    ['LRANGE', '{s}l', '0', '-1'],
    ['SORT', '{s}nokey', 'STORE', '{s}d'],
    ['EXISTS', '{s}d'],
    ['SORT', '{s}l', 'LIMIT', '100', '1', 'STORE', '{s}d', 'ALPHA'],
    ['SORT', '{s}l', 'ALPHA', 'STORE', '{s}d1', 'STORE', '{s}d2'],
    ['EXISTS', '{s}d1', '{s}d2'],
  ]);
});

t.test('sets with STORE are sorted even BY a constant', async (t) => {
  if (!(await needs(t, 'sadd', 'rpush', 'lrange'))) return;
  await diff(t, [
    ['FLUSHALL'],
    ['SADD', '{s}s', 'b', 'a', 'c', '10', '9'],
    ['SORT', '{s}s', 'BY', 'nosort', 'STORE', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
    ['SORT', '{s}s', 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2', 'STORE', '{s}d'],
    ['LRANGE', '{s}d', '0', '-1'],
  ]);
});

t.test('sorted sets: rank order without sorting, member scores otherwise', async (t) => {
  if (!(await needs(t, 'zadd'))) return;
  await diff(t, [
    ['FLUSHALL'],
    ['ZADD', '{s}z', '1', '30', '2', '10', '3', '20', '4', '-1', '5', '2.5'],
    ['SORT', '{s}z', 'BY', 'nosort'],
    ['SORT', '{s}z', 'BY', 'nosort', 'DESC'],
    ['SORT', '{s}z', 'BY', 'nosort', 'LIMIT', '1', '2'],
    ['SORT', '{s}z', 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2'],
    ['SORT', '{s}z', 'BY', 'nosort', 'DESC', 'LIMIT', '4', '10'],
    ['SORT', '{s}z', 'BY', 'nosort', 'LIMIT', '5', '10'],
    ['SORT', '{s}z'],
    ['SORT', '{s}z', 'DESC'],
    ['SORT', '{s}z', 'ALPHA'],
    ['SET', '{s}w_30', '1'],
    ['SET', '{s}w_10', '2'],
    ['SORT', '{s}z', 'BY', '{s}w_*', 'GET', '#', 'GET', '{s}w_*'],
    ['ZADD', '{s}zw', '1', 'a', '2', 'b'],
    ['SORT', '{s}zw'],
    ['SORT', '{s}zw', 'ALPHA', 'DESC'],
  ]);
});

/** Random collections and SORT calls whose result Redis defines fully. */
function generator(seed: number, kinds: string[]): () => Arg[][] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const elems = ['1', '2', '3', '-4', '10', '2.5', '007', 'a', 'b', 'B', 'zz', '1e2', '', '9'];
  return () => {
    const kind = pick(kinds);
    const items = Array.from({ length: int(0, 9) }, () => pick(elems));
    const numericOnly = r() < 0.6;
    const members = numericOnly ? items.filter((x) => x !== '' && /^[-0-9.e]+$/.test(x)) : items;
    const setup: Arg[][] = [['DEL', '{s}k']];
    if (members.length > 0) {
      if (kind === 'set') setup.push(['SADD', '{s}k', ...members]);
      else if (kind === 'list') setup.push(['RPUSH', '{s}k', ...members]);
      else setup.push(['ZADD', '{s}k', ...members.flatMap((m) => [String(int(-5, 5)), m])]);
    }
    // Weights: unique per element (a permutation), so ALPHA BY has no ties.
    const weightOf = new Map<string, number>();
    for (const e of elems) weightOf.set(e, weightOf.size * 7 + int(0, 6));
    for (const e of elems) {
      if (r() < 0.9 || kind === 'list') setup.push(['SET', `{s}w_${e}`, String(weightOf.get(e))]);
      else setup.push(['DEL', `{s}w_${e}`]);
      setup.push(['HSET', `{s}h_${e}`, 'f', `v${weightOf.get(e)}`]);
    }
    const c: Arg[] = [r() < 0.8 ? 'SORT' : 'SORT_RO', '{s}k'];
    const by = r();
    let constBy = false;
    if (by < 0.3) c.push('BY', '{s}w_*');
    else if (by < 0.4) c.push('BY', '{s}h_*->f');
    else if (by < 0.55 && kind !== 'set') {
      c.push('BY', 'nosort');
      constBy = true;
    }
    const alpha = r() < 0.4;
    if (alpha) c.push('ALPHA');
    if (r() < 0.4) c.push(pick(['DESC', 'ASC']));
    if (r() < 0.4) c.push('LIMIT', String(int(-1, 6)), String(int(-2, 6)));
    for (let g = int(0, 2); g > 0; g--) c.push('GET', pick(['#', '{s}w_*', '{s}h_*->f', '{s}none_*']));
    const store = c[0] === 'SORT' && (kind !== 'set' || !constBy) && r() < 0.3;
    if (store) c.push('STORE', '{s}out');
    // ALPHA BY over a set or zset: weights must all exist (a missing one ties with another).
    if (alpha && c.includes('{s}w_*') && kind !== 'list') {
      for (const e of elems) setup.push(['SET', `{s}w_${e}`, String(weightOf.get(e))]);
    }
    const cmds = [...setup, c];
    if (store) cmds.push(['LRANGE', '{s}out', '0', '-1'], ['EXISTS', '{s}out']);
    return cmds;
  };
}

const SEEDS = process.env.DIFF_SEED ? [Number(process.env.DIFF_SEED)] : [51, 52, 53];
const STEPS = Number(process.env.DIFF_STEPS ?? 300);

t.test('random SORT calls over random collections', async (t) => {
  const kinds: string[] = [];
  if ((await has('sadd', 'hset')) === null) kinds.push('set');
  if ((await has('rpush', 'lrange', 'hset')) === null) kinds.push('list');
  if ((await has('zadd', 'hset')) === null) kinds.push('zset');
  const storeOk = (await has('rpush', 'lrange')) === null;
  if (kinds.length === 0)
    return void t.ok(true, 'no collection commands yet', { skip: 'needs sadd/rpush/zadd' });
  if (!storeOk) t.comment('STORE is not exercised: needs rpush/lrange (the list type) in the table');
  for (const seed of SEEDS) {
    const next = generator(seed, kinds);
    let bad: string | null = null;
    for (let i = 0; i < STEPS && bad === null; i++) {
      let cmds = next();
      if (!storeOk) cmds = cmds.filter((c) => !c.includes('STORE') && c[0] !== 'LRANGE');
      const [ra, rb] = await Promise.all([a.pipeline(cmds), b.pipeline(cmds)]);
      for (let j = 0; j < cmds.length && bad === null; j++) {
        if (ra[j] !== rb[j]) {
          const setup = cmds.filter((c) => c[0] !== 'SET' && c[0] !== 'HSET' && c[0] !== 'DEL').map(show);
          bad = `seed ${seed} step ${i}: ${show(cmds[j]!)}\n  tessera: ${ra[j]}\n  redis:   ${rb[j]}\n  ${setup.join(' | ')}`;
        }
      }
    }
    t.equal(bad, null, bad ?? `seed ${seed}: ${STEPS} SORT calls identical (${kinds.join(', ')})`);
  }
});

t.test('SORT ... STORE signals sortstore (or del when empty)', async (t) => {
  if (!(await needs(t, 'rpush'))) return;
  const { keyEvents } = await import('../helpers/keyevents.ts');
  const cmds: Arg[][] = [
    ['FLUSHALL'],
    ['RPUSH', '{s}l', '2', '1'],
    ['SORT', '{s}l', 'STORE', '{s}d'],
    ['SORT', '{s}nokey', 'STORE', '{s}d'],
    ['SORT', '{s}nokey', 'STORE', '{s}d'],
  ];
  const [te, re] = [await keyEvents(tes.port, cmds, '{s}end'), await keyEvents(red.port, cmds, '{s}end')];
  if (!te.includes('set {s}end')) {
    const why = `keyspace notifications are not delivered by this build yet (got ${JSON.stringify(te)})`;
    return void t.ok(true, why, { skip: why });
  }
  t.same(te, re);
});
