import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';

t.test('SLOWLOG gathers entries from every shard and the main thread', async (t) => {
  const srv = await startTessera(['--shards', '2', '--slowlog-log-slower-than', '0']);
  t.teardown(() => srv.stop());
  const r = new Redis({ port: srv.port });
  t.teardown(() => r.disconnect());
  await r.call('SLOWLOG', 'RESET');
  await r.set('{a}k', '1'); // the two keys live in different shards
  await r.set('{b}k', '2');
  await r.call('CLIENT', 'SETNAME', 'probe');
  const entries = (await r.call('SLOWLOG', 'GET', '-1')) as [
    number,
    number,
    number,
    string[],
    string,
    string,
  ][];
  const commands = entries.map((e) => e[3].join(' ').toUpperCase());
  t.ok(commands.includes('SET {A}K 1'), 'shard 0 entry');
  t.ok(commands.includes('SET {B}K 2'), 'shard 1 entry');
  t.ok(commands.includes('CLIENT SETNAME PROBE'), 'main-thread entry');
  const ids = entries.map((e) => e[0]);
  t.equal(new Set(ids).size, ids.length, 'ids are unique across shards');
  for (const e of entries) {
    t.equal(e.length, 6, 'id, time, duration, args, addr, name');
    t.ok(e[2] >= 0 && Math.abs(e[1] - Date.now() / 1000) < 60, 'duration and unix time');
  }
  t.match(entries.find((e) => e[3][0]!.toUpperCase() === 'SET')![4], /^127\.0\.0\.1:\d+$/, 'client address');
  t.equal(await r.call('SLOWLOG', 'GET', '1').then((x) => (x as unknown[]).length), 1, 'count limits');
  t.equal(await r.call('SLOWLOG', 'RESET'), 'OK');
  t.equal(await r.call('SLOWLOG', 'LEN'), 1, 'after RESET only the RESET itself is logged, as in Redis');
  await t.rejects(r.call('SLOWLOG', 'GET', '-2'), /count should be greater than or equal to -1/);
  await t.rejects(r.call('SLOWLOG', 'GET', 'x'), /value is not an integer or out of range/);
});

t.test('slowlog-log-slower-than and slowlog-max-len apply at run time', async (t) => {
  const srv = await startTessera();
  t.teardown(() => srv.stop());
  const r = new Redis({ port: srv.port });
  t.teardown(() => r.disconnect());
  await r.set('x', '1');
  t.equal(await r.call('SLOWLOG', 'LEN'), 0, 'default 10 ms threshold: fast commands are not logged');
  await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '3');
  for (let i = 0; i < 10; i++) await r.set(`k${i}`, 'v');
  t.ok(((await r.call('SLOWLOG', 'LEN')) as number) <= 3 + 1, 'capped per source by slowlog-max-len');
  await r.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  await r.call('SLOWLOG', 'RESET');
  await r.set('y', '1');
  t.equal(await r.call('SLOWLOG', 'LEN'), 0, '-1 disables');
});
