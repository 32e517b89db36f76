/**
 * Adversarial review of sessions (MULTI/EXEC, the cross-shard executor, blocked clients) on a
 * 3-shard daemon, compared with a real redis-server where the reply is Redis's: RESET inside a
 * transaction, CLIENT PAUSE against EXEC, WATCH across shards, blocked clients racing EXEC,
 * SWAPDB serving blocked clients, big values inside sessions, clients leaving mid-session.
 */
import t from 'tap';
import { startTessera } from '../helpers/server.ts';
import { startOraclePair, rawConnect, resp, replies, type RawClient, type TT } from '../helpers/raw.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 3;
const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
/** One key name per shard. */
const keys: string[] = [];
for (let i = 0; keys.length < SHARDS; i++) if (shardOf(`k${i}`) === keys.length) keys.push(`k${i}`);
const [k0, k1, k2] = keys as [string, string, string];

const { tes, red, tc, rc } = await startOraclePair(t, ['--shards', String(SHARDS)]);

const enc = (cmds: string[][]): Buffer => Buffer.concat(cmds.map((c) => resp(...c)));

/** Send the same commands to both servers and compare every reply byte for byte. */
async function same(tt: TT, cmds: string[][], a = tc, b = rc): Promise<string> {
  const out = enc(cmds);
  const [x, y] = await Promise.all([a.ask(out, replies(cmds.length)), b.ask(out, replies(cmds.length))]);
  tt.equal(
    x,
    y,
    cmds.map((c) => c.map((a) => (a.length > 40 ? `<${a.length} bytes>` : a)).join(' ')).join(' | '),
  );
  return x;
}

/** A second pair of clients (one per server), closed when the test ends. */
async function pair(tt: TT): Promise<[RawClient, RawClient]> {
  const a = await rawConnect(tes.port);
  const b = await rawConnect(red.port);
  tt.teardown(() => {
    a.end();
    b.end();
  });
  return [a, b];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('RESET inside MULTI discards the transaction and forgets WATCHes', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  await same(tt, [
    ['MULTI'],
    ['SET', k0, 'x'],
    ['RESET'],
    ['SET', k1, 'y'],
    ['EXEC'],
    ['GET', k0],
    ['GET', k1],
  ]);
  // WATCH, RESET, a change by another client: the next transaction runs (nothing is watched).
  await same(tt, [['WATCH', k2], ['RESET']]);
  const [a, b] = await pair(tt);
  await same(tt, [['SET', k2, 'other']], a, b);
  await same(tt, [['MULTI'], ['SET', k0, 'tx'], ['EXEC'], ['GET', k0]]);
});

t.test('WATCH on a key in a shard the transaction does not touch', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SET', k2, '1']]);
  const [a, b] = await pair(tt);
  await same(tt, [['WATCH', k2]]);
  await same(tt, [['INCR', k2]], a, b);
  await same(tt, [['MULTI'], ['SET', k0, 'a'], ['SET', k1, 'b'], ['EXEC'], ['EXISTS', k0, k1]]);
  // In another db, and the change also in that db.
  await same(tt, [
    ['SELECT', '3'],
    ['WATCH', k1],
  ]);
  await same(
    tt,
    [
      ['SELECT', '3'],
      ['SET', k1, 'x'],
      ['SELECT', '0'],
    ],
    a,
    b,
  );
  await same(tt, [['MULTI'], ['SET', k0, 'a'], ['EXEC'], ['SELECT', '0']]);
});

t.test('blocking commands inside MULTI, errors of one shard inside EXEC', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SET', k1, 'str']]);
  await same(tt, [
    ['MULTI'],
    ['BLPOP', k0, k1, k2, '0'],
    ['BLMOVE', k0, k2, 'LEFT', 'RIGHT', '0'],
    ['RPUSH', k0, 'a', 'b'],
    ['BLMOVE', k0, k2, 'LEFT', 'RIGHT', '0'],
    ['BLPOP', k1, k0, '0'],
    ['LPUSH', k1, 'x'],
    ['INCR', k2],
    ['MSET', k0, '1', k1, '2', k2, '3'],
    ['EXEC'],
    ['MGET', k0, k1, k2],
  ]);
});

t.test('a blocked client stays blocked when a transaction pushes and pops', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  const [a, b] = await pair(tt);
  a.write(resp('BLPOP', k0, '0'));
  b.write(resp('BLPOP', k0, '0'));
  await sleep(100);
  await same(tt, [['MULTI'], ['LPUSH', k0, 'x'], ['LPOP', k0], ['EXEC']]);
  await sleep(100);
  tt.equal(a.data().length, 0, 'tessera: still blocked');
  tt.equal(b.data().length, 0, 'redis: still blocked');
  await same(tt, [['MULTI'], ['LPUSH', k0, 'y'], ['EXEC']]);
  const [x, y] = await Promise.all([a.until(replies(1)), b.until(replies(1))]);
  tt.equal(x.toString(), y.toString(), 'served after the next transaction');
});

t.test('pipelined commands after a served blocked command and after EXEC keep their order', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SET', k1, 'v1']]);
  const [a, b] = await pair(tt);
  const cmds = [
    ['BLPOP', k0, k2, '0'],
    ['GET', k1],
    ['MULTI'],
    ['RENAME', k1, k2],
    ['EXEC'],
    ['GET', k2],
    ['PING'],
  ];
  a.write(enc(cmds));
  b.write(enc(cmds));
  await sleep(100);
  await same(tt, [['RPUSH', k2, 'e']]);
  const [x, y] = await Promise.all([a.until(replies(cmds.length)), b.until(replies(cmds.length))]);
  tt.equal(x.toString(), y.toString());
});

t.test('CLIENT PAUSE WRITE holds an EXEC that writes', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  const [a, b] = await pair(tt);
  await same(tt, [['CLIENT', 'PAUSE', '400', 'WRITE']]);
  const cmds = [['MULTI'], ['SET', k0, 'paused'], ['SET', k1, 'paused'], ['EXEC']];
  a.write(enc(cmds));
  b.write(enc(cmds));
  await sleep(100);
  // Reads are not paused: the transaction must not have run yet.
  await same(tt, [['MGET', k0, k1]]);
  const [x, y] = await Promise.all([a.until(replies(4), 3000), b.until(replies(4), 3000)]);
  tt.equal(x.toString(), y.toString());
  await same(tt, [['MGET', k0, k1]]);
  // A write inside MULTI waits for the pause even to be queued (Redis processCommand order).
  await same(tt, [['CLIENT', 'PAUSE', '300', 'WRITE']]);
  const qa = a.ask(enc([['MULTI'], ['SET', k0, 'q'], ['GET', k0]]), replies(3), 3000);
  const qb = b.ask(enc([['MULTI'], ['SET', k0, 'q'], ['GET', k0]]), replies(3), 3000);
  await sleep(100);
  tt.equal(a.data().toString(), b.data().toString(), 'only MULTI answered during the pause');
  tt.equal(...(await Promise.all([qa, qb])));
  await same(tt, [['EXEC'], ['GET', k0]], a, b);
  // A read-only transaction is not held.
  await same(tt, [['CLIENT', 'PAUSE', '400', 'WRITE']]);
  const t0 = Date.now();
  await same(tt, [['MULTI'], ['GET', k0], ['EXEC']], a, b);
  tt.ok(Date.now() - t0 < 300, 'read-only EXEC runs during the pause');
  await same(tt, [['CLIENT', 'UNPAUSE']]);
});

t.test('SWAPDB inside EXEC serves a client blocked in the other db', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  const [a, b] = await pair(tt);
  await same(tt, [['SELECT', '1']], a, b);
  const pa = a.ask(resp('BLPOP', k1, '2'), replies(1), 4000);
  const pb = b.ask(resp('BLPOP', k1, '2'), replies(1), 4000);
  await sleep(100);
  await same(tt, [['RPUSH', k1, 'from0'], ['MULTI'], ['SWAPDB', '0', '1'], ['EXEC']]);
  const t0 = Date.now();
  const [x, y] = await Promise.all([pa, pb]);
  tt.equal(x, y);
  tt.ok(Date.now() - t0 < 1000, 'served at the swap, not at the timeout');
  // Outside a transaction too, and a key of another type does not serve it (Redis 7.0).
  const qa = a.ask(resp('BLPOP', k2, '1'), replies(1), 4000);
  const qb = b.ask(resp('BLPOP', k2, '1'), replies(1), 4000);
  await sleep(100);
  await same(tt, [
    ['RPUSH', k2, 'x'],
    ['SWAPDB', '1', '0'],
  ]);
  tt.equal(...(await Promise.all([qa, qb])));
});

t.test('big values inside EXEC and cross-shard commands', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  const big = 'v'.repeat(3 * 1024 * 1024);
  const r = await same(tt, [
    ['MULTI'],
    ['SET', k0, big],
    ['RENAME', k0, k1],
    ['STRLEN', k1],
    ['RPUSH', k2, big, 'small'],
    ['LMOVE', k2, k0, 'LEFT', 'RIGHT'],
    ['STRLEN', k1],
    ['EXEC'],
  ]);
  tt.notOk(r.includes('ERR'), 'no errors');
  await same(tt, [['SUNIONSTORE', k2, k1, k0]]);
  await same(tt, [
    ['LMOVE', k0, k2, 'LEFT', 'LEFT'],
    ['STRLEN', k1],
    ['LLEN', k0],
  ]);
  const got = await tc.ask(resp('GET', k1), replies(1), 10000);
  tt.ok(got === `$${big.length}\r\n${big}\r\n`, 'the big value arrives whole');
});

t.test('clients leaving mid-EXEC or mid-cross-shard command strand nothing', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SADD', k0, 'm'], ['SET', k1, '0']]);
  for (let i = 0; i < 20; i++) {
    const c = await rawConnect(tes.port);
    const cmds = [['MULTI']];
    for (let j = 0; j < 50; j++) cmds.push(['INCR', k1], ['SMOVE', k0, k2, 'm'], ['SMOVE', k2, k0, 'm']);
    cmds.push(['EXEC'], ['SMOVE', k0, k2, 'm'], ['BLPOP', k0, k2, '0']);
    c.write(enc(cmds));
    if (i % 2 === 0) await sleep(1);
    c.end();
  }
  const got = await tc.ask(enc([['PING'], ['SMEMBERS', k0], ['SMEMBERS', k2]]), replies(3), 5000);
  tt.match(got, /^\+PONG\r\n/);
  tt.equal((got.match(/\$1\r\nm\r\n/g) ?? []).length, 1, 'the member is in exactly one set');
  const n = Number((await tc.ask(resp('GET', k1))).split('\r\n')[1]);
  tt.equal(n % 50, 0, 'transactions ran whole or not at all');
});

// Redis 7.0 serves a blocked client only from a key of the type it waits for: OP_BLOCK carries
// the awaited type, and a retry looks only at the keys reported ready.
t.test('a write of another type to a key a client waits on does not serve it', async (tt) => {
  await same(tt, [['FLUSHALL']]);
  const [a, b] = await pair(tt);
  const pa = a.ask(resp('BLPOP', k0, k2, '1'), replies(1), 4000);
  const pb = b.ask(resp('BLPOP', k0, k2, '1'), replies(1), 4000);
  await sleep(100);
  await same(tt, [['SET', k0, 'str']]);
  await sleep(100);
  await same(tt, [['MULTI'], ['DEL', k0], ['RPUSH', k0, 'e'], ['EXEC']]);
  tt.equal(...(await Promise.all([pa, pb])));
});

t.test('QUIT and FLUSHALL inside MULTI, a WATCHing client of another connection', async (tt) => {
  await same(tt, [['FLUSHALL'], ['MSET', k0, '1', k1, '2', k2, '3']]);
  const [a, b] = await pair(tt);
  await same(tt, [['WATCH', k2]], a, b);
  await same(tt, [
    ['MULTI'],
    ['SET', k0, 'x'],
    ['FLUSHALL'],
    ['SET', k1, 'y'],
    ['EXEC'],
    ['MGET', k0, k1, k2],
  ]);
  await same(tt, [['MULTI'], ['GET', k0], ['EXEC']], a, b);
  const [c, d] = await pair(tt);
  await same(tt, [['MULTI'], ['SET', k0, 'q'], ['QUIT']], c, d);
  await Promise.all([c.closed, d.closed]);
  await same(tt, [['GET', k0]]);
});

t.test('a small ring: transactions, cross-shard commands and floods of ordinary traffic', async (tt) => {
  const srv = await startTessera(['--shards', String(SHARDS), '--ring-size', '65536']);
  tt.teardown(() => srv.stop());
  const clients = await Promise.all([0, 1, 2, 3].map(() => rawConnect(srv.port)));
  tt.teardown(() => clients.forEach((c) => c.end()));
  const val = 'x'.repeat(2000);
  const jobs = clients.map((c, i) => {
    const cmds: string[][] = [];
    for (let r = 0; r < 20; r++) {
      cmds.push(['MULTI']);
      for (let j = 0; j < 30; j++) cmds.push(['SET', `${keys[j % 3]}:${i}`, val], ['INCR', `n${j % 3}`]);
      cmds.push(['RENAME', `${k0}:${i}`, `${k1}:${i}:r`], ['EXEC']);
      for (let j = 0; j < 100; j++) cmds.push(['GET', `${keys[j % 3]}:${i}`], ['INCR', `n${j % 3}`]);
      cmds.push(['SUNIONSTORE', `${k2}:s${i}`, k0, k1], ['BLPOP', `${k2}:nothing`, '0.01']);
    }
    return c.ask(enc(cmds), replies(cmds.length), 30000).then((out) => ({ out, n: cmds.length }));
  });
  const done = await Promise.all(jobs);
  for (const { out } of done) tt.notOk(out.includes('-ERR'), 'no errors');
  const sum = await clients[0]!.ask(enc([['MGET', 'n0', 'n1', 'n2']]), replies(1));
  const total = sum.match(/\$\d+\r\n(\d+)/g)!.reduce((acc, m) => acc + Number(m.split('\r\n')[1]), 0);
  tt.equal(total, 4 * 20 * (30 + 100), 'every increment applied once');
});

t.test('FLUSHALL / FLUSHDB / SWAPDB touch only WATCHed keys that exist', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SET', k0, 'here']]);
  const [a, b] = await pair(tt);
  for (const op of [['FLUSHALL'], ['FLUSHDB'], ['SWAPDB', '0', '5']]) {
    await same(tt, [['WATCH', k1, k2]]);
    await same(tt, [op], a, b);
    await same(tt, [['MULTI'], ['SET', 'x', '1'], ['EXEC']]);
    await same(tt, [
      ['SET', k1, 'v'],
      ['WATCH', k1],
    ]);
    await same(tt, [op], a, b);
    await same(tt, [['MULTI'], ['SET', 'x', '1'], ['EXEC'], ['FLUSHALL']]);
  }
});

t.test('SELECT, SWAPDB and FLUSHDB mixed with cross-shard commands inside EXEC', async (tt) => {
  await same(tt, [
    ['FLUSHALL'],
    ['SET', k0, 'a'],
    ['SADD', k1, 'm1'],
    ['SELECT', '4'],
    ['SET', k0, 'b'],
    ['SELECT', '0'],
  ]);
  await same(tt, [
    ['MULTI'],
    ['SELECT', '4'],
    ['RENAME', k0, k2],
    ['COPY', k2, k1, 'DB', '0'],
    ['SELECT', '0'],
    ['SWAPDB', '0', '4'],
    ['RENAME', k2, k0],
    ['SUNIONSTORE', k2, k1, k0],
    ['FLUSHDB'],
    ['SADD', k1, 'x'],
    ['SMOVE', k1, k2, 'x'],
    ['MOVE', k2, '4'],
    ['EXEC'],
    ['TYPE', k0],
    ['TYPE', k1],
    ['TYPE', k2],
    ['DBSIZE'],
    ['SELECT', '4'],
    ['TYPE', k0],
    ['TYPE', k1],
    ['TYPE', k2],
    ['DBSIZE'],
    ['SELECT', '0'],
  ]);
  await same(tt, [
    ['SELECT', '4'],
    ['SMEMBERS', k2],
    ['GET', k0],
    ['GET', k1],
    ['SELECT', '0'],
  ]);
});

t.test('keys bigger than a ring frame in WATCH, BLPOP and cross-shard commands', async (tt) => {
  const srv = await startTessera(['--shards', String(SHARDS), '--ring-size', '65536']);
  tt.teardown(() => srv.stop());
  const a = await rawConnect(srv.port);
  const b = await rawConnect(srv.port);
  tt.teardown(() => {
    a.end();
    b.end();
  });
  const bigKey = 'K'.repeat(100 * 1024);
  const served = a.ask(resp('BLPOP', k0, bigKey, '5'), replies(1), 6000);
  await sleep(100);
  tt.equal(await b.ask(resp('RPUSH', bigKey, 'v')), ':1\r\n');
  tt.equal(await served, `*2\r\n$${bigKey.length}\r\n${bigKey}\r\n$1\r\nv\r\n`, 'served from the big key');
  tt.equal(await a.ask(resp('WATCH', bigKey, k1)), '+OK\r\n');
  await b.ask(resp('SET', bigKey, 'changed'));
  tt.equal(
    await a.ask(enc([['MULTI'], ['RENAME', bigKey, k2], ['EXEC']]), replies(3)),
    '+OK\r\n+QUEUED\r\n*-1\r\n',
  );
  tt.equal(
    await a.ask(enc([['MULTI'], ['RENAME', bigKey, k2], ['EXEC'], ['GET', k2]]), replies(4)),
    '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$7\r\nchanged\r\n',
  );
});

t.test('BLPOP over a wrong-typed key and an empty one is served when the empty one gets data', async (tt) => {
  await same(tt, [['FLUSHALL'], ['SET', k0, 'str']]);
  const [a, b] = await pair(tt);
  const pa = a.ask(resp('BLPOP', k0, k2, '2'), replies(1), 4000);
  const pb = b.ask(resp('BLPOP', k0, k2, '2'), replies(1), 4000);
  await sleep(100);
  await same(tt, [['RPUSH', k2, 'v1', 'v2']]);
  tt.equal(...(await Promise.all([pa, pb])));
});
