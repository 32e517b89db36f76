/**
 * MULTI/EXEC/DISCARD/WATCH across shards (sessions: every shard parked at one point of the
 * global order while the transaction runs), compared with a real redis-server where replies
 * are deterministic, plus a concurrency invariant: transfers between keys in different shards
 * never change the total any observer sees.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startOraclePair, resp, replies, type TT } from '../helpers/raw.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 3;
const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
/** One key name per shard. */
const keys: string[] = [];
for (let i = 0; keys.length < SHARDS; i++) if (shardOf(`k${i}`) === keys.length) keys.push(`k${i}`);

const { tes, red, tc, rc } = await startOraclePair(t, ['--shards', String(SHARDS)]);

/** Send the same commands to both servers and compare every reply byte for byte. */
async function same(tt: TT, cmds: string[][]): Promise<void> {
  const out = Buffer.concat(cmds.map((c) => resp(...c)));
  const [a, b] = await Promise.all([tc.ask(out, replies(cmds.length)), rc.ask(out, replies(cmds.length))]);
  tt.equal(a, b, cmds.map((c) => c.join(' ')).join(' | '));
}

t.test('EXEC over keys in every shard, errors and aborts as Redis', async (tt) => {
  await same(tt, [['FLUSHALL'], ['MSET', keys[0]!, '1', keys[1]!, '2', keys[2]!, 'x']]);
  await same(tt, [
    ['MULTI'],
    ['INCR', keys[0]!],
    ['INCRBY', keys[1]!, '5'],
    ['INCR', keys[2]!],
    ['MGET', ...keys],
    ['DBSIZE'],
    ['EXEC'],
  ]);
  await same(tt, [['MULTI'], ['SET', 'a', '1'], ['NOSUCHCMD'], ['EXEC'], ['GET', 'a']]);
  await same(tt, [['MULTI'], ['GET'], ['EXEC']]);
  await same(tt, [['MULTI'], ['MULTI'], ['DISCARD'], ['EXEC'], ['DISCARD']]);
  await same(tt, [['MULTI'], ['WATCH', 'a'], ['EXEC']]);
  await same(tt, [['MULTI'], ['SET', keys[0]!, 'v'], ['DISCARD'], ['GET', keys[0]!]]);
  await same(tt, [['MULTI'], ['EXEC']]);
  await same(tt, [
    ['MULTI'],
    ['SELECT', '2'],
    ['SET', keys[1]!, 'in2'],
    ['SELECT', '0'],
    ['GET', keys[1]!],
    ['EXEC'],
    ['SELECT', '2'],
    ['GET', keys[1]!],
    ['SELECT', '0'],
  ]);
  await same(tt, [
    ['MULTI'],
    ['MSETNX', keys[0]!, 'n', keys[1]!, 'n'],
    ['RENAME', keys[0]!, 'renamed'],
    ['EXEC'],
    ['GET', 'renamed'],
  ]);
});

t.test('WATCH aborts EXEC after a change by another client, expiry or FLUSHDB', async (tt) => {
  const other = new Redis({ port: tes.port, lazyConnect: true });
  const otherRed = new Redis({ port: red.port, lazyConnect: true });
  await other.connect();
  await otherRed.connect();
  const both = async (fn: (r: Redis) => Promise<unknown>): Promise<void> => {
    await fn(other);
    await fn(otherRed);
  };
  await same(tt, [
    ['SET', keys[0]!, '1'],
    ['WATCH', keys[0]!, keys[2]!],
  ]);
  await both((r) => r.set(keys[0]!, '2'));
  await same(tt, [['MULTI'], ['GET', keys[1]!], ['EXEC']]);
  // Untouched watches do not abort; UNWATCH forgets.
  await same(tt, [['WATCH', keys[1]!], ['MULTI'], ['GET', keys[0]!], ['EXEC']]);
  await same(tt, [['WATCH', keys[1]!], ['UNWATCH']]);
  await both((r) => r.set(keys[1]!, 'changed'));
  await same(tt, [['MULTI'], ['GET', keys[1]!], ['EXEC']]);
  // A watched key that expires aborts (Redis 7).
  await same(tt, [
    ['SET', keys[2]!, 'v', 'PX', '60'],
    ['WATCH', keys[2]!],
  ]);
  await new Promise((r) => setTimeout(r, 120));
  await same(tt, [['MULTI'], ['SET', 'z', '1'], ['EXEC']]);
  await same(tt, [
    ['SET', keys[2]!, 'v'],
    ['WATCH', keys[2]!],
  ]);
  await both((r) => r.flushdb());
  await same(tt, [['MULTI'], ['SET', 'z', '1'], ['EXEC']]);
  // Changes by the watching client itself abort too.
  await same(tt, [['WATCH', keys[0]!], ['SET', keys[0]!, 'self'], ['MULTI'], ['GET', keys[0]!], ['EXEC']]);
  other.disconnect();
  otherRed.disconnect();
});

t.test('RESP3 EXEC and aborted EXEC shapes', async (tt) => {
  // HELLO's own reply names the server: switch both without comparing it.
  await Promise.all([tc.ask(resp('HELLO', '3'), replies(1)), rc.ask(resp('HELLO', '3'), replies(1))]);
  await same(tt, [['SET', keys[0]!, '1'], ['MULTI'], ['INCR', keys[0]!], ['GET', keys[1]!], ['EXEC']]);
  await same(tt, [['WATCH', keys[0]!], ['SET', keys[0]!, '5'], ['MULTI'], ['PING'], ['EXEC']]);
  await Promise.all([tc.ask(resp('HELLO', '2'), replies(1)), rc.ask(resp('HELLO', '2'), replies(1))]);
});

t.test('transfers between shards inside transactions keep the total constant', async (tt) => {
  const N = 6;
  const accts = Array.from({ length: 12 }, (_, i) => `acct:${i}`);
  const admin = new Redis({ port: tes.port });
  await admin.mset(...accts.flatMap((k) => [k, '100']));
  tt.ok(new Set(accts.map(shardOf)).size === SHARDS, 'accounts span every shard');
  const clients = Array.from({ length: N }, () => new Redis({ port: tes.port }));
  let stop = false;
  let bad = 0;
  let reads = 0;
  const writers = clients.slice(1).map(async (c, w) => {
    let i = w;
    while (!stop) {
      const a = accts[(i * 7) % accts.length]!;
      const b = accts[(i * 5 + 3) % accts.length]!;
      i++;
      if (a === b) continue;
      await c.multi().decrby(a, 3).incrby(b, 3).exec();
    }
  });
  const reader = (async () => {
    while (!stop) {
      const vals = (await clients[0]!.mget(...accts)).map(Number);
      if (vals.reduce((x, y) => x + y, 0) !== 1200) bad++;
      const tx = (await clients[0]!
        .multi()
        .mget(...accts)
        .exec())![0]![1] as string[];
      if (tx.map(Number).reduce((x, y) => x + y, 0) !== 1200) bad++;
      reads += 2;
    }
  })();
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all([...writers, reader]);
  tt.equal(bad, 0, `no observer saw a half transaction (${reads} reads)`);
  const total = (await admin.mget(...accts)).map(Number).reduce((x, y) => x + y, 0);
  tt.equal(total, 1200);
  for (const c of clients) c.disconnect();
  admin.disconnect();
});

t.test('concurrent SMOVE between sets in different shards never loses or duplicates a member', async (tt) => {
  const sets = keys.map((k) => `{${k}}set`);
  tt.equal(new Set(sets.map(shardOf)).size, SHARDS, 'one set per shard');
  const admin = new Redis({ port: tes.port });
  await admin.del(...sets);
  const members = Array.from({ length: 60 }, (_, i) => `m${i}`);
  for (let i = 0; i < members.length; i++) await admin.sadd(sets[i % SHARDS]!, members[i]!);
  const clients = Array.from({ length: 5 }, () => new Redis({ port: tes.port }));
  let stop = false;
  let bad = 0;
  let reads = 0;
  const movers = clients.slice(1).map(async (c, w) => {
    let i = w;
    while (!stop) {
      const from = sets[i % SHARDS]!;
      const to = sets[(i + 1 + (w % 2)) % SHARDS]!;
      i++;
      await c.smove(from, to, members[(i * 7) % members.length]!);
    }
  });
  const reader = (async () => {
    while (!stop) {
      const tx = (await clients[0]!.multi().smembers(sets[0]!).smembers(sets[1]!).smembers(sets[2]!).exec())!;
      const all = tx.flatMap(([, v]) => v as string[]);
      if (all.length !== members.length || new Set(all).size !== members.length) bad++;
      const union = await clients[0]!.sunion(...sets);
      if (union.length !== members.length) bad++;
      reads += 2;
    }
  })();
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all([...movers, reader]);
  tt.equal(bad, 0, `every snapshot held each member exactly once (${reads} reads)`);
  const cards = await Promise.all(sets.map((s) => admin.scard(s)));
  tt.equal(
    cards.reduce((a, b) => a + b, 0),
    members.length,
  );
  for (const c of clients) c.disconnect();
  admin.disconnect();
});
