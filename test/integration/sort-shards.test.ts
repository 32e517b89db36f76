/**
 * SORT's BY/GET patterns name keys outside the command's key list. With several shards they are
 * read where the sorted key lives: keys sharing its {hash tag} work; a pattern key in another
 * shard gets a clear error instead of a silently wrong order.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import { keySlotOfString } from '../../src/router/keyslot.ts';

const SHARDS = 3;
const shardOf = (k: string): number => Math.floor((keySlotOfString(k) * SHARDS) / 16384);
const srv = await startTessera(['--shards', String(SHARDS)]);
const r = new Redis({ port: srv.port });
t.teardown(async () => {
  r.disconnect();
  await srv.stop();
});

t.test('patterns under the same hash tag sort and GET as Redis', async (tt) => {
  await r.rpush('{u}ids', '3', '1', '2');
  await r.mset(
    '{u}w_1',
    '30',
    '{u}w_2',
    '10',
    '{u}w_3',
    '20',
    '{u}n_1',
    'one',
    '{u}n_2',
    'two',
    '{u}n_3',
    'three',
  );
  tt.same(await r.sort('{u}ids', 'BY', '{u}w_*'), ['2', '3', '1']);
  tt.same(await r.sort('{u}ids', 'BY', '{u}w_*', 'GET', '#', 'GET', '{u}n_*'), [
    '2',
    'two',
    '3',
    'three',
    '1',
    'one',
  ]);
  tt.equal(await r.sort('{u}ids', 'BY', '{u}w_*', 'STORE', '{u}out'), 3);
  tt.same(await r.lrange('{u}out', 0, -1), ['2', '3', '1']);
});

t.test('a pattern key in another shard is an error, not a wrong answer', async (tt) => {
  // Weights whose keys (w_1…) do not share the list's shard.
  const list = 'plainids';
  await r.rpush(list, '1', '2', '3');
  const foreign = ['1', '2', '3'].map((i) => `w_${i}`).filter((k) => shardOf(k) !== shardOf(list));
  tt.ok(foreign.length > 0, 'some weight keys live in another shard');
  await r.mset('w_1', '30', 'w_2', '10', 'w_3', '20');
  await tt.rejects(r.sort(list, 'BY', 'w_*'), /pattern names a key in another shard/);
  await tt.rejects(r.sort(list, 'GET', 'w_*'), /pattern names a key in another shard/);
  // SORT … STORE into another shard goes through the cross-shard executor: same rule there.
  const dst = ['d1', 'd2', 'd3', 'd4', 'd5'].find((k) => shardOf(k) !== shardOf(list))!;
  await tt.rejects(r.sort(list, 'BY', 'w_*', 'STORE', dst), /pattern names a key in another shard/);
  tt.equal(await r.sort(list, 'STORE', dst), 3, 'without patterns STORE across shards works');
  tt.same(await r.lrange(dst, 0, -1), ['1', '2', '3']);
  tt.same(await r.sort(list, 'BY', 'nosort'), ['1', '2', '3'], 'a constant BY reads no key');
});
