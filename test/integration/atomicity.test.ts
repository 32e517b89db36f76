/**
 * Cross-shard atomicity under concurrency (DESIGN principle 1: one sequencer). With 4 shards,
 * concurrent clients race multi-key commands whose keys live in different shards; no observer
 * may ever see a half-applied MSET/DEL, a RENAME that lost or duplicated its value, or two
 * winners of one MSETNX.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 4;
const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);

/** `perShard` key names from `prefix` for each shard, in shard order. */
function spread(prefix: string, perShard: number): string[] {
  const byShard: string[][] = Array.from({ length: SHARDS }, () => []);
  for (let i = 0; byShard.some((l) => l.length < perShard); i++) {
    const k = `${prefix}${i}`;
    const l = byShard[shardOf(k)]!;
    if (l.length < perShard) l.push(k);
  }
  return byShard.flat();
}

const srv = await startTessera(['--shards', String(SHARDS)]);
const clients: Redis[] = [];
async function client(): Promise<Redis> {
  const r = new Redis({ port: srv.port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  clients.push(r);
  return r;
}
t.teardown(async () => {
  for (const c of clients) c.disconnect();
  await srv.stop();
});

/** Runs `body` in `lanes` concurrent loops until `ms` have passed. */
async function loop(
  ms: number,
  lanes: number,
  body: (lane: number, n: number) => Promise<void>,
): Promise<void> {
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let n = 0; Date.now() < end; n++) await body(lane, n);
    }),
  );
}

t.test('MSET / DEL over 8 keys in 4 shards are never seen half-applied', async (t) => {
  const keys = spread('gen:', 2);
  t.same(new Set(keys.map(shardOf)).size, SHARDS, `keys ${keys.join(' ')} cover every shard`);
  const writers = await Promise.all([client(), client(), client(), client()]);
  const readers = await Promise.all([client(), client(), client(), client()]);
  let writes = 0;
  let dels = 0;
  let reads = 0;
  let torn = 0;
  let sample = '';
  const check = (vals: (string | null)[]): void => {
    reads++;
    if (vals.every((v) => v === vals[0])) return;
    torn++;
    sample ||= JSON.stringify(vals);
  };
  await Promise.all([
    ...writers.map((w, wi) =>
      loop(2000, 4, async (lane, n) => {
        if (n % 10 === 9) {
          await w.del(...keys);
          dels++;
        } else {
          const g = `${wi}.${lane}.${n}`;
          await w.mset(...keys.flatMap((k) => [k, g]));
          writes++;
        }
      }),
    ),
    ...readers.map((r, ri) =>
      loop(2000, 4, async (lane) => {
        if ((ri + lane) % 4 === 3) {
          const n = await r.exists(...keys);
          reads++;
          if (n !== 0 && n !== keys.length) {
            torn++;
            sample ||= `EXISTS = ${n}`;
          }
        } else check(await r.mget(...keys));
      }),
    ),
  ]);
  t.comment(`${writes} MSET, ${dels} DEL, ${reads} observations`);
  t.ok(writes > 100 && dels > 10 && reads > 100, 'enough traffic');
  t.equal(torn, 0, torn ? `half-applied state seen, e.g. ${sample}` : 'every observation consistent');
  check(await readers[0]!.mget(...keys));
  t.equal(torn, 0);
});

t.test('concurrent cross-shard RENAME ping-pong never loses or duplicates the value', async (t) => {
  const [a, b] = [spread('pp:', 1)[0]!, spread('pp:', 1)[2]!];
  t.not(shardOf(a), shardOf(b), `${a} and ${b} live in different shards`);
  const [w1, w2, o1, o2] = await Promise.all([client(), client(), client(), client()]);
  await w1.set(a, 'the-value');
  let renames = 0;
  let missing = 0;
  let observations = 0;
  let bad = 0;
  let sample = '';
  const rename = (c: Redis, from: string, to: string) => async (): Promise<void> => {
    try {
      await c.rename(from, to);
      renames++;
    } catch (e) {
      if (!/no such key/.test(String(e))) throw e;
      missing++;
    }
  };
  await Promise.all([
    loop(1500, 4, rename(w1, a, b)),
    loop(1500, 4, rename(w2, b, a)),
    ...[o1, o2].map((o, oi) =>
      loop(1500, 3, async (lane) => {
        observations++;
        if ((oi + lane) % 2 === 0) {
          const n = await o.exists(a, b);
          if (n !== 1) {
            bad++;
            sample ||= `EXISTS ${a} ${b} = ${n}`;
          }
        } else {
          const vals = await o.mget(a, b);
          if (
            vals.filter((v) => v === 'the-value').length !== 1 ||
            vals.some((v) => v !== null && v !== 'the-value')
          ) {
            bad++;
            sample ||= `MGET = ${JSON.stringify(vals)}`;
          }
        }
      }),
    ),
  ]);
  t.comment(`${renames} renames, ${missing} lost races (no such key), ${observations} observations`);
  t.ok(renames > 50, 'renames happened in both directions');
  t.equal(bad, 0, bad ? `value lost or duplicated: ${sample}` : 'exactly one of the two keys held the value');
  t.equal(await o1.exists(a, b), 1);
});

t.test('MSETNX over keys in several shards raced by three clients: exactly one wins', async (t) => {
  const cs = await Promise.all([client(), client(), client()]);
  const ROUNDS = 300;
  let conflicts = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Keys of one round in every shard; every third round the clients' key sets only overlap.
    const keys = spread(`nx${round}:`, 1);
    const sets =
      round % 3 === 2
        ? [keys.slice(0, 2), keys.slice(1, 3), [keys[2]!, keys[0]!, keys[3]!]]
        : [keys, keys, keys];
    const wins = await Promise.all(cs.map((c, i) => c.msetnx(...sets[i]!.flatMap((k) => [k, `c${i}`]))));
    const winners = wins.map((w, i) => (w === 1 ? i : -1)).filter((i) => i >= 0);
    if (winners.length !== 1) {
      conflicts++;
      t.fail(`round ${round}: ${winners.length} winners (${JSON.stringify(wins)})`);
      continue;
    }
    const w = winners[0]!;
    const vals = await cs[0]!.mget(...keys);
    const expected = keys.map((k) => (sets[w]!.includes(k) ? `c${w}` : null));
    if (JSON.stringify(vals) !== JSON.stringify(expected)) {
      conflicts++;
      t.fail(`round ${round}: winner c${w} but keys hold ${JSON.stringify(vals)}`);
    }
  }
  t.equal(conflicts, 0, `${ROUNDS} rounds, one winner each, its values stored in every shard`);
});
