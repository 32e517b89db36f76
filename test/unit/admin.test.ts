/** Units behind STATS and tessera-admin: the ops/s sampler, the RESP decoder, human units. */
import t from 'tap';
import { OpsSampler } from '../../src/observability/stats.ts';
import { ReplyError, decodeAll, encodeCommand } from '../../src/admin/resp.ts';
import { bytes, count, duration, pairsToMap, plain } from '../../src/admin/format.ts';
import { parseArgs } from '../../src/admin/cli.ts';

t.test('OpsSampler: rate over the last 5 s from a ring of samples', async (t) => {
  const s = new OpsSampler(2, 64, 100);
  t.same(s.rates(), { perShard: [0, 0], windowMs: 0 }, 'no rate before two samples');
  // Shard 0 runs 1000 ops/s for 10 s, shard 1 is idle; the cron runs every 50 ms.
  for (let ms = 0; ms <= 10_000; ms += 50) s.sample(ms, (i) => (i === 0 ? ms : 7));
  const r = s.rates();
  t.equal(r.windowMs, 5000, 'a full 5 s window');
  t.equal(r.perShard[0], 1000);
  t.equal(r.perShard[1], 0);
  // A burst then silence: the rate decays as the burst leaves the window.
  for (let ms = 10_100; ms <= 13_000; ms += 100) s.sample(ms, () => 10_000);
  t.equal(s.rates().perShard[0], 400, '2000 ops in the last 5 s');
  const early = new OpsSampler(1);
  early.sample(0, () => 0);
  early.sample(500, () => 50);
  t.same(early.rates(), { perShard: [100], windowMs: 500 }, 'shorter window right after start');
});

t.test('RESP decoder: RESP2/RESP3 types, incremental input', async (t) => {
  const wire = Buffer.from(
    '+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n' +
      '%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n%1\r\n$1\r\nc\r\n_\r\n' +
      ',1.5\r\n#t\r\n(12345678901234567890\r\n=8\r\ntxt:abcd\r\n|1\r\n+k\r\n+v\r\n:7\r\n',
  );
  const { replies, used } = decodeAll(wire);
  t.equal(used, wire.length);
  t.equal(replies[0], 'OK');
  t.ok(replies[1] instanceof ReplyError && replies[1].code === 'ERR');
  t.same(replies.slice(2, 6), [42, 'hello', null, [1, 'x']]);
  t.same(plain(replies[6]!), { a: 1, b: { c: null } }, 'nested maps');
  t.same(replies.slice(7, 10), [1.5, true, 12345678901234567890n]);
  t.equal(replies[10], 'abcd', 'verbatim string without its format');
  t.equal(replies[11], 7, 'attributes skipped');
  for (let cut = 0; cut < wire.length; cut += 7) {
    const part = decodeAll(wire.subarray(0, cut));
    t.ok(part.used <= cut, `cut at ${cut}: only whole replies consumed`);
  }
  t.equal(encodeCommand(['SET', 'k', 'é']).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
});

t.test('units and RESP2 pairs', async (t) => {
  t.equal(bytes(512), '512 B');
  t.equal(bytes(1536), '1.5 KiB');
  t.equal(bytes(1.2 * 1024 * 1024), '1.2 MiB');
  t.equal(count(999), '999');
  t.equal(count(12_345), '12.3k');
  t.equal(count(999_960), '1.0M', 'no 1000.0k');
  t.equal(count(4_500_000), '4.5M');
  t.equal(duration(59), '59s');
  t.equal(duration(3725), '1h 02m');
  t.equal(duration(90_000), '1d 01h');
  const stats = pairsToMap(
    ['total', ['keys', 3], 'shards', ['0', ['keys', 1], '1', ['keys', 2]]],
    ['total', 'shards'],
  );
  t.same(plain(stats), { total: { keys: 3 }, shards: { 0: { keys: 1 }, 1: { keys: 2 } } });
});

t.test('argument parsing: options anywhere, --watch value optional, env password', async (t) => {
  const o = parseArgs(['stats', '--watch', '-p', '7000', '-h', '::1'], { TESSERA_PASSWORD: 'pw' });
  t.equal(o.watch, 1, '--watch defaults to 1 s');
  t.equal(o.port, 7000);
  t.equal(o.host, '::1');
  t.equal(o.pass, 'pw');
  t.notOk(o.passOnCommandLine);
  t.equal(parseArgs(['stats', '--watch', '2.5'], {}).watch, 2.5);
  t.same(parseArgs(['config', 'set', 'x', '-1'], {}).args, ['config', 'set', 'x', '-1'], 'negative value');
  t.same(parseArgs(['config', 'set', '--', 'x', '--y'], {}).args, ['config', 'set', 'x', '--y']);
  t.throws(() => parseArgs(['-p', 'abc'], {}), /invalid port/);
  t.throws(() => parseArgs(['--bogus'], {}), /unknown option '--bogus'/);
});
