/**
 * Persistence through the real daemon: everything written survives a restart (every type
 * that exists, TTLs as absolute times, expired keys dropped), SAVE/BGSAVE/BGREWRITEAOF/
 * LASTSAVE and INFO persistence, snapshots replacing WAL segments, restarts with a different
 * shard count, a torn tail, a corrupted record in the middle (refused, check-wal, repair).
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/server.ts';
import { crash, dataFiles, runToExit, startOn, walFiles } from '../helpers/persist.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'tessera-persist-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => path.join(base, `d${n++}`);

async function client(port: number): Promise<Redis> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  return r;
}

async function supports(r: Redis, ...probe: string[]): Promise<boolean> {
  try {
    await r.call(probe[0]!, ...probe.slice(1));
    return true;
  } catch (err) {
    return !/unknown command/.test((err as Error).message);
  }
}

function info(text: string, field: string): string {
  return new RegExp(`^${field}:(.*)\r?$`, 'm').exec(text)?.[1]?.trim() ?? '';
}

async function until(what: string, cond: () => Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function admin(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/tessera-admin.mjs'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

t.test('restart keeps every write; snapshots; shard count changes', async (t) => {
  const dir = newDir();
  let tes = await startOn(dir, ['--shards', '2']);
  let r = await client(tes.port);
  const types = {
    hash: await supports(r, 'hset', 'probe:h', 'f', 'v'),
    set: await supports(r, 'sadd', 'probe:s', 'm'),
    list: await supports(r, 'rpush', 'probe:l', 'x'),
    zset: await supports(r, 'zadd', 'probe:z', '1', 'm'),
  };
  t.comment(`types available: ${JSON.stringify(types)}`);
  await r.del('probe:h', 'probe:s', 'probe:l', 'probe:z');
  await r.set('plain', 'v');
  await r.set('ttl', 'v', 'EX', 1000);
  await r.setex('setex', 2000, 'v');
  await r.incr('counter');
  await r.incrby('counter', 41);
  await r.incrbyfloat('float', '1.25');
  await r.append('app', 'ab');
  await r.append('app', 'cd');
  await r.mset('m1', 'a', 'm2', 'b', 'm3', 'c', 'm4', 'd');
  await r.set('gone', 'x');
  await r.del('gone', 'm4');
  await r.set('exp', 'v');
  await r.expire('exp', 3000);
  await r.set('persisted', 'v', 'EX', 100);
  await r.persist('persisted');
  await r.set('bin', Buffer.from([0, 1, 255, 13, 10]));
  await r.select(5);
  await r.set('db5', 'five');
  await r.select(0);
  for (let i = 0; i < 500; i++) await r.set(`k:${i}`, `v${i}`);
  if (types.hash) await r.hset('h', 'a', '1', 'b', '2');
  if (types.set) await r.sadd('s', 'x', 'y');
  if (types.list) await r.rpush('l', '1', '2', '3');
  if (types.zset) await r.zadd('z', 1, 'one', 2, 'two');
  const dbsize = await r.dbsize();
  await r.set('short', 'v', 'PX', 200);
  await new Promise((res) => setTimeout(res, 300)); // 'short' expires meanwhile
  r.disconnect();
  await tes.stop();

  const check = async (r: Redis, label: string): Promise<void> => {
    t.equal(await r.get('plain'), 'v', `${label}: plain`);
    const ttl = await r.ttl('ttl');
    t.ok(ttl > 900 && ttl <= 1000, `${label}: TTL kept as an absolute time (${ttl})`);
    t.ok((await r.ttl('setex')) > 1900, `${label}: SETEX TTL`);
    t.equal(await r.exists('short'), 0, `${label}: expired key dropped`);
    t.equal(await r.get('counter'), '42');
    t.equal(await r.get('float'), '1.25');
    t.equal(await r.get('app'), 'abcd');
    t.same(await r.mget('m1', 'm2', 'm3', 'm4'), ['a', 'b', 'c', null]);
    t.equal(await r.exists('gone'), 0);
    t.ok((await r.ttl('exp')) > 2900, `${label}: EXPIRE`);
    t.equal(await r.ttl('persisted'), -1, `${label}: PERSIST`);
    t.same(await r.getBuffer('bin'), Buffer.from([0, 1, 255, 13, 10]));
    t.equal(await r.get('k:499'), 'v499');
    if (types.hash) t.same(await r.hgetall('h'), { a: '1', b: '2' });
    if (types.set) t.same((await r.smembers('s')).sort(), ['x', 'y']);
    if (types.list) t.same(await r.lrange('l', 0, -1), ['1', '2', '3']);
    if (types.zset) t.same(await r.zrange('z', 0, -1, 'WITHSCORES'), ['one', '1', 'two', '2']);
    t.equal(await r.dbsize(), dbsize, `${label}: DBSIZE (the expired key is not loaded)`);
    await r.select(5);
    t.equal(await r.get('db5'), 'five', `${label}: other db`);
    await r.select(0);
  };

  tes = await startOn(dir, ['--shards', '2', '--loglevel', 'notice']);
  r = await client(tes.port);
  await check(r, 'restart');
  const inf = await r.info('persistence');
  t.equal(info(inf, 'aof_enabled'), '1');
  t.equal(info(inf, 'loading'), '0');
  t.equal(info(inf, 'rdb_last_load_keys_loaded'), String(dbsize + 1), 'keys loaded (all dbs)');
  t.match(tes.output(), /DB loaded from disk: [\d.]+ seconds/);

  // Snapshots: the WAL segments they cover are deleted.
  const walsBefore = walFiles(dir);
  t.equal(await r.call('BGSAVE'), 'Background saving started');
  await until('BGSAVE', async () => info(await r.info('persistence'), 'rdb_saves') === '1');
  const after = await r.info('persistence');
  t.equal(info(after, 'rdb_last_bgsave_status'), 'ok');
  t.equal(info(after, 'rdb_bgsave_in_progress'), '0');
  t.ok(Number(info(after, 'aof_base_size')) > 0, 'aof_base_size is the snapshots');
  t.ok(Number(await r.lastsave()) >= Math.floor(Date.now() / 1000) - 10, 'LASTSAVE');
  const files = dataFiles(dir);
  t.equal(files.filter((f) => f.endsWith('.snap')).length, 2, 'one snapshot per shard');
  for (const w of walsBefore) t.notOk(files.includes(path.basename(w)), `${path.basename(w)} deleted`);
  t.equal(await r.call('SAVE'), 'OK');
  t.equal(await r.call('BGREWRITEAOF'), 'Background append only file rewriting started');
  await until('rewrite', async () => info(await r.info('persistence'), 'aof_rewrite_in_progress') === '0');
  await t.rejects(r.call('BGSAVE', 'NOW'), /syntax error/);
  // Writes after the snapshot live in the WAL tail.
  await r.set('after', 'snapshot');
  await r.incr('counter');
  await r.del('k:0');
  r.disconnect();
  await crash(tes);

  for (const shards of ['3', '1']) {
    tes = await startOn(dir, ['--shards', shards]);
    r = await client(tes.port);
    t.equal(await r.get('after'), 'snapshot', `--shards ${shards}: WAL tail`);
    t.equal(await r.get('counter'), '43');
    t.equal(await r.exists('k:0'), 0);
    for (let i = 1; i < 500; i += 37) t.equal(await r.get(`k:${i}`), `v${i}`, `--shards ${shards}: k:${i}`);
    t.equal(await r.dbsize(), dbsize, `--shards ${shards}: every key, in the shard of its slot`);
    await r.select(5);
    t.equal(await r.get('db5'), 'five');
    t.match(tes.output(), /shard count changed/);
    t.ok(
      dataFiles(dir).every((f) => f.includes(`of${shards}.`)),
      `only files of the ${shards}-shard layout remain`,
    );
    r.disconnect();
    await tes.stop();
  }
});

t.test('torn tail: truncated with a warning, the rest loads', async (t) => {
  const dir = newDir();
  let tes = await startOn(dir, ['--shards', '1']);
  let r = await client(tes.port);
  for (let i = 0; i < 50; i++) await r.set(`t:${i}`, `v${i}`);
  r.disconnect();
  await tes.stop();
  const wal = walFiles(dir).at(-1)!;
  const size = statSync(wal).size;
  truncateSync(wal, size - 5);
  tes = await startOn(dir, ['--shards', '1', '--loglevel', 'notice']);
  r = await client(tes.port);
  t.match(tes.output(), /torn tail at offset \d+/, 'warned');
  t.equal(await r.get('t:48'), 'v48');
  t.equal(await r.exists('t:49'), 0, 'the unfinished last write is gone');
  t.equal(statSync(wal).size < size - 5, true, 'file truncated to its last whole frame');
  r.disconnect();
  await tes.stop();
});

t.test('corrupted middle record: refused, check-wal reports it, repair lets it start', async (t) => {
  const dir = newDir();
  let tes = await startOn(dir, ['--shards', '1']);
  let r = await client(tes.port);
  for (let i = 0; i < 100; i++) await r.set(`c:${i}`, `value-${i}`);
  r.disconnect();
  await tes.stop();
  const wal = walFiles(dir).at(-1)!;
  const b = readFileSync(wal);
  const at = b.indexOf('value-50');
  t.ok(at > 0);
  b[at] ^= 0x20;
  writeFileSync(wal, b);

  const refused = await runToExit(dir, ['--shards', '1']);
  t.not(refused.code, 0, 'start-up refused');
  t.match(
    refused.out,
    new RegExp(`${path.basename(wal).replace('.', '\\.')}: bad WAL record at offset \\d+`),
  );
  t.match(refused.out, /check-wal --repair/);

  const check = admin('check-wal', dir);
  t.equal(check.code, 1, 'check-wal fails');
  t.match(check.out, /BAD record at offset \d+: checksum mismatch/);
  const fix = admin('check-wal', '--repair', dir);
  t.equal(fix.code, 0, fix.out);
  t.match(fix.out, /truncated to \d+ bytes/);
  t.equal(admin('check-wal', dir).code, 0, 'valid after the repair');

  tes = await startOn(dir, ['--shards', '1']);
  r = await client(tes.port);
  t.equal(await r.get('c:49'), 'value-49', 'records before the bad one');
  t.equal(await r.exists('c:50'), 0, 'the bad record and what followed are lost');
  await r.set('c:new', 'x');
  r.disconnect();
  await tes.stop();

  // The start-up flag does the same.
  const b2 = readFileSync(walFiles(dir)[0]!);
  const at2 = b2.indexOf('value-10');
  b2[at2] ^= 0x20;
  writeFileSync(walFiles(dir)[0]!, b2);
  tes = await startOn(dir, ['--shards', '1', '--wal-repair', 'yes', '--loglevel', 'notice']);
  r = await client(tes.port);
  t.match(tes.output(), /repairing: the WAL is cut there/);
  t.equal(await r.get('c:9'), 'value-9');
  r.disconnect();
  await tes.stop();
});

t.test('appendonly no: nothing logged; CONFIG SET appendonly yes starts with a snapshot', async (t) => {
  const dir = newDir();
  let tes = await startOn(dir, ['--appendonly', 'no', '--shards', '1']);
  let r = await client(tes.port);
  await r.set('before', '1');
  t.equal(walFiles(dir).length, 0, 'no WAL');
  t.equal(await r.config('SET', 'appendonly', 'yes'), 'OK');
  await until('snapshot', async () => dataFiles(dir).some((f) => f.endsWith('.snap')));
  await r.set('after', '2');
  t.equal(await r.config('SET', 'appendfsync', 'always'), 'OK');
  await r.set('always', '3');
  r.disconnect();
  await crash(tes);
  tes = await startOn(dir, ['--shards', '1']);
  r = await client(tes.port);
  t.same(await r.mget('before', 'after', 'always'), ['1', '2', '3']);
  r.disconnect();
  await tes.stop();
});
