/**
 * What the hash and set commands tell the rest of the system, checked on a real Keyspace with
 * the real handlers from the command table: the keyspace events (names and order as Redis's
 * notifyKeyspaceEvent calls in t_hash.c / t_set.c), what the WAL and replicas get instead of
 * non-deterministic commands (SPOP → SREM/DEL, HINCRBYFLOAT → HSET), and that object memory
 * stays accounted as values grow, shrink and disappear.
 */
import t from 'tap';
import { commandByName } from '../../src/commands/table.ts';
import { modified, propagate } from '../../src/commands/modified.ts';
import { NOTIFY_ALL } from '../../src/commands/notify-flags.ts';
import type { ShardContext } from '../../src/commands/types.ts';
import { SlowLog } from '../../src/observability/slowlog.ts';
import { RespWriter } from '../../src/protocol/writer.ts';
import { RequestView, requestSize, writeRequest } from '../../src/router/frames.ts';
import { Keyspace } from '../../src/store/keyspace.ts';

const ks = new Keyspace(16);
const ctx: ShardContext = {
  ks,
  req: new RequestView(),
  out: new RespWriter(),
  shardId: 0,
  maxBulkLen: 512 * 1024 * 1024,
  slowlog: new SlowLog(),
  notifyFlags: NOTIFY_ALL,
  events: [],
  modified,
  propagate,
  propagated: [],
};

interface Effects {
  reply: string;
  events: string[];
  wal: string[];
}

/** Runs one command as a shard would (the name first, then its arguments). */
function run(name: string, ...args: string[]): Effects {
  const spec = commandByName(name)!;
  const src = Buffer.from(args.join(''), 'latin1');
  const starts = new Int32Array(args.length);
  const ends = new Int32Array(args.length);
  const idx = new Int32Array(args.length);
  let p = 0;
  args.forEach((a, i) => {
    starts[i] = p;
    p += a.length;
    ends[i] = p;
    idx[i] = i;
  });
  const size = requestSize(
    args.map((a) => a.length),
    args.length,
  );
  const ab = new ArrayBuffer((size + 7) & ~7);
  writeRequest(
    new Uint8Array(ab),
    new Int32Array(ab),
    0,
    1,
    1,
    spec.index,
    0,
    0,
    src,
    starts,
    ends,
    idx,
    args.length,
  );
  ctx.req.decode(new Uint8Array(ab), new Int32Array(ab), 0);
  ctx.out.reset();
  ctx.events.length = 0;
  ctx.propagated.length = 0;
  ks.now = Date.now();
  spec.shard!(ctx);
  const events: string[] = [];
  for (let i = 0; i < ctx.events.length; i += 3) {
    events.push(`${ctx.events[i + 1]} ${Buffer.from(ctx.events[i + 2] as Uint8Array).toString('latin1')}`);
  }
  const wal = ctx.propagated.map((argv) =>
    argv.map((a) => (typeof a === 'string' ? a : Buffer.from(a).toString('latin1'))).join(' '),
  );
  return { reply: ctx.out.buf.toString('latin1', 0, ctx.out.pos), events, wal };
}

t.test('hash commands: events and what gets propagated', async (t) => {
  t.same(run('hset', 'h', 'a', '1', 'b', '2').events, ['hset h']);
  t.same(run('hsetnx', 'h', 'a', 'x').events, [], 'HSETNX on an existing field changes nothing');
  t.same(run('hsetnx', 'h', 'c', 'x').events, ['hset h']);
  t.same(run('hincrby', 'h', 'a', '2').events, ['hincrby h']);
  const f = run('hincrbyfloat', 'h', 'f', '1.5');
  t.same(
    [f.events, f.wal],
    [['hincrbyfloat h'], ['HSET h f 1.5']],
    'HINCRBYFLOAT is recorded as HSET of the result',
  );
  t.same(run('hincrby', 'h', 'c', '1').events, [], 'a failed HINCRBY changes nothing');
  t.same(run('hget', 'h', 'a').events, []);
  t.same(run('hdel', 'h', 'nope').events, []);
  t.same(run('hdel', 'h', 'a', 'b', 'c').events, ['hdel h']);
  t.same(run('hdel', 'h', 'f', 'zz').events, ['hdel h', 'del h'], 'the emptied hash is deleted');
  t.equal(run('exists', 'h').reply, ':0\r\n');
  t.same(run('hset', 'h', 'a', '1').wal, [], 'deterministic commands are recorded as sent');
});

t.test('set commands: events and what gets propagated', async (t) => {
  t.same(run('sadd', 's', '1', '2', '3', '4', '5').events, ['sadd s']);
  t.same(run('sadd', 's', '1').events, [], 'adding a member already there changes nothing');
  t.same(run('srem', 's', 'x').events, []);
  const one = run('spop', 's');
  const popped = one.reply.split('\r\n')[1];
  t.same([one.events, one.wal], [['spop s'], [`SREM s ${popped}`]], 'SPOP is recorded as SREM of the member');
  const two = run('spop', 's', '2');
  const members = two.reply.split('\r\n').filter((_, i) => i % 2 === 0 && i > 0);
  t.same(two.events, ['spop s']);
  t.same(two.wal, [`SREM s ${members.join(' ')}`], 'SPOP count is recorded as SREM of what it popped');
  t.equal(run('scard', 's').reply, ':2\r\n');
  const all = run('spop', 's', '10');
  t.same([all.events, all.wal], [['spop s', 'del s'], ['DEL s']], 'popping everything is recorded as DEL');
  t.same(run('sadd', 'a', '1', '2').events, ['sadd a']);
  t.same(run('smove', 'a', 'b', '1').events, ['srem a', 'sadd b']);
  t.same(run('sadd', 'b', '2').events, ['sadd b']);
  t.same(run('smove', 'a', 'b', '2').events, ['srem a', 'del a'], 'no sadd when b already had it');
  t.same(run('smove', 'b', 'b', '2').events, []);
  run('sadd', 'c', '2', '3');
  t.same(run('sinterstore', 'd', 'b', 'c').events, ['sinterstore d']);
  t.same(run('sunionstore', 'd', 'b', 'c').events, ['sunionstore d']);
  t.same(run('sdiffstore', 'd', 'b', 'c').events, ['sdiffstore d']);
  t.same(run('sdiffstore', 'd', 'c', 'c').events, ['del d'], 'an empty result deletes the destination');
  t.same(run('sinterstore', 'd', 'b', 'nokey').events, [], 'nothing to delete: no event');
  t.same(run('srandmember', 'c', '-5').events, []);
  t.same(run('srem', 'c', '2', '3', '4').events, ['srem c', 'del c']);
});

t.test('object memory is accounted as values change and released when they go', async (t) => {
  run('flushall');
  t.equal(ks.objectBytes, 0);
  run('hset', 'mh', 'f', 'v');
  const small = ks.objectBytes;
  t.ok(small > 0, `a small hash costs ${small} bytes`);
  const args = Array.from({ length: 600 }, (_, i) => [`field${i}`, 'x'.repeat(50)]).flat();
  run('hset', 'mh', ...args);
  const big = ks.objectBytes;
  t.ok(big > 600 * 60, `600 fields of 50 bytes: ${big} bytes`);
  t.equal(run('object|encoding', 'mh').reply, '$9\r\nhashtable\r\n');
  run('sadd', 'ms', ...Array.from({ length: 100 }, (_, i) => String(i)));
  t.equal(run('object|encoding', 'ms').reply, '$6\r\nintset\r\n');
  const withSet = ks.objectBytes;
  t.ok(
    withSet - big >= 200 && withSet - big < 2000,
    `100 small integers in an intset: ${withSet - big} bytes`,
  );
  run('del', 'mh');
  run('spop', 'ms', '100');
  t.equal(ks.objectBytes, 0, 'deleted and emptied values give their bytes back');
});
