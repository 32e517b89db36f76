/**
 * Blocking commands through real clients: FIFO service, wake-ups from any shard, timeouts,
 * MULTI, CLIENT UNBLOCK, and a client that leaves while blocked leaving no trace.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 3;
const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
const keys: string[] = [];
for (let i = 0; keys.length < SHARDS; i++) if (shardOf(`bk${i}`) === keys.length) keys.push(`bk${i}`);

const srv = await startTessera(['--shards', String(SHARDS)]);
const open: Redis[] = [];
function client(): Redis {
  const r = new Redis({ port: srv.port, maxRetriesPerRequest: 0 });
  open.push(r);
  return r;
}
t.teardown(async () => {
  for (const c of open) c.disconnect();
  await srv.stop();
});
const admin = client();
const hasLists = (await admin
  .call('COMMAND', 'INFO', 'blpop')
  .then((r) => (r as unknown[])[0] !== null)) as boolean;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until INFO reports `n` blocked clients (the blocking registration has happened). */
async function blocked(n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const info = (await admin.info('clients')) as string;
    if (info.includes(`blocked_clients:${n}\r`)) return;
    await sleep(10);
  }
  throw new Error(`never saw ${n} blocked clients`);
}

t.test(
  'blocked clients are served in the order they blocked',
  { skip: !hasLists && 'no list commands' },
  async (tt) => {
    const a = client();
    const b = client();
    const c = client();
    const pa = a.blpop(keys[0]!, 0);
    await blocked(1);
    const pb = b.blpop(keys[0]!, 0);
    await blocked(2);
    const pc = c.blpop(keys[0]!, 0);
    await blocked(3);
    await admin.rpush(keys[0]!, 'one', 'two', 'three');
    tt.same(await pa, [keys[0], 'one']);
    tt.same(await pb, [keys[0], 'two']);
    tt.same(await pc, [keys[0], 'three']);
    tt.equal(await admin.exists(keys[0]!), 0, 'the list was consumed and deleted');
    await blocked(0);
  },
);

t.test(
  'BLPOP over keys in several shards wakes on a push to any of them',
  { skip: !hasLists && 'no list commands' },
  async (tt) => {
    const a = client();
    const p = a.blpop(keys[0]!, keys[1]!, keys[2]!, 5);
    await blocked(1);
    await admin.lpush(keys[2]!, 'v');
    tt.same(await p, [keys[2], 'v']);
    // BLMOVE between shards: the element moves atomically once it arrives.
    const m = a.blmove(keys[1]!, keys[0]!, 'LEFT', 'RIGHT', 5);
    await blocked(1);
    await admin.rpush(keys[1]!, 'moved');
    tt.equal(await m, 'moved');
    tt.same(await admin.lrange(keys[0]!, 0, -1), ['moved']);
    tt.equal(await admin.exists(keys[1]!), 0);
    await admin.del(keys[0]!);
  },
);

t.test('timeouts, MULTI and CLIENT UNBLOCK', { skip: !hasLists && 'no list commands' }, async (tt) => {
  const a = client();
  const t0 = Date.now();
  tt.equal(await a.blpop(keys[0]!, 0.2), null, 'nil after the timeout');
  tt.ok(Date.now() - t0 >= 180, 'waited for the timeout');
  const tx = await a.multi().blpop(keys[0]!, 0).exec();
  tt.same(tx, [[null, null]], 'inside MULTI BLPOP does not block');
  const id = (await a.client('ID')) as number;
  const p = a.blpop(keys[0]!, 0);
  await blocked(1);
  tt.equal(await admin.client('UNBLOCK', id, 'TIMEOUT'), 1);
  tt.equal(await p, null);
  const q = a.blpop(keys[0]!, 0).catch((e: Error) => e.message);
  await blocked(1);
  tt.equal(await admin.client('UNBLOCK', id, 'ERROR'), 1);
  tt.equal(await q, 'UNBLOCKED client unblocked via CLIENT UNBLOCK');
  tt.equal(await admin.client('UNBLOCK', id), 0, 'not blocked any more');
  await tt.rejects(admin.call('BLPOP', keys[0]!, '-1'), /timeout is negative/);
  await tt.rejects(admin.call('BLPOP', keys[0]!, 'abc'), /timeout is not a float or out of range/);
});

t.test(
  'a client that leaves while blocked leaves no trace',
  { skip: !hasLists && 'no list commands' },
  async (tt) => {
    const gone = new Redis({ port: srv.port, maxRetriesPerRequest: 0 });
    gone.blpop(keys[1]!, 0).catch(() => {});
    await blocked(1);
    gone.disconnect();
    await blocked(0);
    await admin.rpush(keys[1]!, 'kept');
    await sleep(50);
    tt.same(await admin.lrange(keys[1]!, 0, -1), ['kept'], 'nobody consumed the element');
    await admin.del(keys[1]!);
  },
);

t.test(
  'a blocked client holds back its later commands',
  { skip: !hasLists && 'no list commands' },
  async (tt) => {
    const a = client();
    const p = a.blpop(keys[0]!, 0);
    const after = a.ping();
    await blocked(1);
    let pinged = false;
    void after.then(() => (pinged = true));
    await sleep(50);
    tt.notOk(pinged, 'PING waits behind the blocked BLPOP');
    await admin.lpush(keys[0]!, 'x');
    tt.same(await p, [keys[0], 'x']);
    tt.equal(await after, 'PONG');
  },
);

const hasZsets = ((await admin.call('COMMAND', 'INFO', 'bzpopmin')) as unknown[])[0] !== null;
t.test('sorted sets: BZPOPMIN woken by ZADD', { skip: !hasZsets && 'no sorted-set commands' }, async (tt) => {
  const a = client();
  const p = a.bzpopmin(keys[2]!, 0);
  await blocked(1);
  await admin.zadd(keys[2]!, 2, 'two', 1, 'one');
  tt.same(await p, [keys[2], 'one', '1']);
  await admin.del(keys[2]!);
});
