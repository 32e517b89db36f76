/**
 * String and counter commands. Most cases are differential: the same command sequence goes to
 * Tessera (two shards, so multi-key commands cross shards) and to a real redis-server, and the
 * raw reply bytes must be identical.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { replies, resp, startOraclePair, type RawClient, type TT } from '../helpers/raw.ts';

const { tes, tc, rc } = await startOraclePair(t, ['--shards', '2']);

async function ask(c: RawClient, args: (string | Buffer)[]): Promise<string> {
  return c.ask(resp(...args), replies(1));
}

/** Test names must stay on one TAP line: escape control and high bytes. */
const printable = (a: string | Buffer): string =>
  (typeof a === 'string' ? a : a.toString('latin1')).replace(
    /[^\x20-\x7e]/g,
    (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );

/** Runs each command on both servers in order; every reply must match byte for byte. */
async function diff(tt: TT, cmds: (string | Buffer)[][], todo?: string): Promise<void> {
  for (const cmd of cmds) {
    const want = await ask(rc, cmd);
    const got = await ask(tc, cmd);
    const name = cmd.map((a) => (a.length > 40 ? `<${a.length} bytes>` : printable(a))).join(' ');
    const msg = got === want ? name : `${name}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`;
    tt.equal(got, want, msg, todo === undefined ? {} : { todo });
  }
}

const FUTURE_S = String(Math.floor(Date.now() / 1000) + 3600);
const FUTURE_MS = String(Date.now() + 3600_000);
const PAST_S = String(Math.floor(Date.now() / 1000) - 10);

t.test('SET options and their conflicts', (t) =>
  diff(t, [
    ['SET', 's:a', '1'],
    ['SET', 's:a', '2', 'NX'],
    ['GET', 's:a'],
    ['SET', 's:b', '1', 'XX'],
    ['EXISTS', 's:b'],
    ['SET', 's:a', '3', 'XX'],
    ['SET', 's:a', '4', 'GET'],
    ['SET', 's:new', 'x', 'GET'],
    ['SET', 's:a', '5', 'NX', 'GET'],
    ['SET', 's:c', '5', 'XX', 'GET'],
    ['SET', 's:a', 'v', 'NX', 'XX'],
    ['SET', 's:a', 'v', 'EX', '10', 'PX', '100'],
    ['SET', 's:a', 'v', 'EX', '10', 'KEEPTTL'],
    ['SET', 's:a', 'v', 'KEEPTTL', 'PXAT', FUTURE_MS],
    ['SET', 's:a', 'v', 'EX'],
    ['SET', 's:a', 'v', 'EX', '0'],
    ['SET', 's:a', 'v', 'EX', '-5'],
    ['SET', 's:a', 'v', 'PX', '0'],
    ['SET', 's:a', 'v', 'EX', 'abc'],
    ['SET', 's:a', 'v', 'EX', '1.5'],
    ['SET', 's:a', 'v', 'EXAT', '0'],
    ['SET', 's:a', 'v', 'BOGUS'],
    ['SET', 's:a'],
    ['GET', 's:a'],
    ['SET', 's:t', 'v', 'EX', '100'],
    ['TTL', 's:t'],
    ['SET', 's:t', 'w', 'KEEPTTL'],
    ['TTL', 's:t'],
    ['GET', 's:t'],
    ['SET', 's:t', 'w'],
    ['TTL', 's:t'],
    ['SET', 's:t', 'v', 'EXAT', FUTURE_S],
    ['EXPIRETIME', 's:t'],
    ['SET', 's:t', 'v', 'PXAT', FUTURE_MS],
    ['PEXPIRETIME', 's:t'],
    ['SET', 's:t', 'v', 'EXAT', PAST_S],
    ['EXISTS', 's:t'],
    ['SET', 's:t', 'v', 'px', '100000', 'nx'],
    ['SET', 's:t', 'v', 'get', 'ex', '100'],
    ['TTL', 's:t'],
  ]),
);

t.test('SETNX SETEX PSETEX GETSET GETDEL', (t) =>
  diff(t, [
    ['SETNX', 'g:a', '1'],
    ['SETNX', 'g:a', '2'],
    ['GET', 'g:a'],
    ['SETEX', 'g:b', '100', 'v'],
    ['TTL', 'g:b'],
    ['SETEX', 'g:b', '0', 'v'],
    ['SETEX', 'g:b', '-1', 'v'],
    ['SETEX', 'g:b', 'x', 'v'],
    ['PSETEX', 'g:c', '100000', 'v'],
    ['TTL', 'g:c'],
    ['PSETEX', 'g:c', '0', 'v'],
    ['GETSET', 'g:b', 'new'],
    ['TTL', 'g:b'],
    ['GETSET', 'g:none', 'x'],
    ['GETDEL', 'g:b'],
    ['GETDEL', 'g:b'],
    ['EXISTS', 'g:b'],
  ]),
);

t.test('GETEX options', (t) =>
  diff(t, [
    ['SET', 'x:a', 'v'],
    ['GETEX', 'x:a'],
    ['GETEX', 'x:a', 'EX', '100'],
    ['TTL', 'x:a'],
    ['GETEX', 'x:a', 'PERSIST'],
    ['TTL', 'x:a'],
    ['GETEX', 'x:a', 'PXAT', FUTURE_MS],
    ['PEXPIRETIME', 'x:a'],
    ['GETEX', 'x:a', 'EXAT', FUTURE_S],
    ['EXPIRETIME', 'x:a'],
    ['GETEX', 'x:a', 'EX', '10', 'PERSIST'],
    ['GETEX', 'x:a', 'PERSIST', 'EX', '10'],
    ['GETEX', 'x:a', 'KEEPTTL'],
    ['GETEX', 'x:a', 'NX'],
    ['GETEX', 'x:a', 'EX', '0'],
    ['GETEX', 'x:a', 'EX', 'nope'],
    ['GETEX', 'x:a', 'EX'],
    ['GETEX', 'x:none', 'EX', '10'],
    ['GETEX', 'x:a', 'EXAT', PAST_S],
    ['EXISTS', 'x:a'],
  ]),
);

t.test('MGET MSET MSETNX across shards', (t) => {
  const keys = Array.from({ length: 12 }, (_, i) => `m:${i}`);
  return diff(t, [
    ['MSET', ...keys.slice(0, 6).flatMap((k) => [k, `v-${k}`])],
    ['MGET', ...keys],
    ['MGET', 'm:0', 'm:0', 'm:none', 'm:1'],
    ['MSET', 'm:0'],
    ['MSET', 'm:0', 'a', 'm:1'],
    ['MSETNX', ...keys.slice(5, 9).flatMap((k) => [k, 'nx'])],
    ['MGET', ...keys],
    ['MSETNX', ...keys.slice(6, 12).flatMap((k) => [k, 'nx'])],
    ['MGET', ...keys],
    ['MSETNX', 'm:x', '1', 'm:y'],
    ['MSET', 'm:d', '1', 'm:d', '2'],
    ['GET', 'm:d'],
    ['DEL', 'm:d'],
    ['EXISTS', 'm:d'],
  ]);
});

t.test('APPEND STRLEN GETRANGE SUBSTR SETRANGE edge cases', (t) =>
  diff(t, [
    ['APPEND', 'r:a', 'Hello'],
    ['APPEND', 'r:a', ' World'],
    ['STRLEN', 'r:a'],
    ['STRLEN', 'r:none'],
    ...[
      ['0', '4'],
      ['-5', '-1'],
      ['-1', '-5'],
      ['5', '3'],
      ['0', '-1'],
      ['-100', '100'],
      ['100', '200'],
      ['-3', '-1'],
      ['0', '0'],
      ['10', '-1'],
      ['-1', '0'],
      ['a', '1'],
    ].map(([s, e]) => ['GETRANGE', 'r:a', s!, e!]),
    ['GETRANGE', 'r:none', '0', '-1'],
    ['SUBSTR', 'r:a', '1', '3'],
    ['SETRANGE', 'r:a', '6', 'Redis'],
    ['GET', 'r:a'],
    ['SETRANGE', 'r:pad', '5', 'x'],
    ['GET', 'r:pad'],
    ['SETRANGE', 'r:a', '15', '!'],
    ['GET', 'r:a'],
    ['SETRANGE', 'r:a', '0', ''],
    ['SETRANGE', 'r:empty', '10', ''],
    ['EXISTS', 'r:empty'],
    ['SETRANGE', 'r:a', '-1', 'x'],
    ['SETRANGE', 'r:a', 'abc', 'x'],
    ['SETRANGE', 'r:a', '536870911', 'xx'],
    ['SET', 'r:n', '12345'],
    ['APPEND', 'r:n', '6'],
    ['GET', 'r:n'],
    ['INCR', 'r:n'],
  ]),
);

t.test('INCR family: parsing and overflow', (t) =>
  diff(t, [
    ['INCR', 'c:a'],
    ['INCRBY', 'c:a', '41'],
    ['DECR', 'c:a'],
    ['DECRBY', 'c:a', '-10'],
    ['GET', 'c:a'],
    ['SET', 'c:max', '9223372036854775806'],
    ['INCR', 'c:max'],
    ['INCR', 'c:max'],
    ['GET', 'c:max'],
    ['SET', 'c:min', '-9223372036854775807'],
    ['DECR', 'c:min'],
    ['DECR', 'c:min'],
    ['DECRBY', 'c:x', '-9223372036854775808'],
    ['INCRBY', 'c:x', '-9223372036854775808'],
    ['INCRBY', 'c:x', '9223372036854775808'],
    ['SET', 'c:big', '9007199254740993'],
    ['INCRBY', 'c:big', '9007199254740993'],
    ['INCRBY', 'c:big', '-18014398509481986'],
    ['INCRBY', 'c:big', '-9007199254740993'],
    ...['abc', '1.0', ' 1', '1 ', '+1', '01', '', '-0', '0x10'].flatMap((v) => [
      ['SET', 'c:s', v],
      ['INCR', 'c:s'],
    ]),
    ['INCRBY', 'c:a', 'abc'],
    ['INCRBY', 'c:a', '1.5'],
    ['SET', 'c:sp', '  '],
    ['DECR', 'c:sp'],
  ]),
);

t.test('INCRBYFLOAT formatting matches Redis', (t) => {
  const cases: [string, string][] = [
    ['10.5', '0.1'],
    ['0.1', '0.2'],
    ['3.0e3', '0'],
    ['5.0e3', '2.0e2'],
    ['1', '-1'],
    ['-0.0', '0'],
    ['10', '-20.25'],
    ['1.5', '1e-5'],
    ['100', '.5'],
    ['0', '1.23456789012345678'],
    ['1e10', '1'],
    ['17179869184', '1.5'],
    ['0.1', '0.7'],
    ['1.1', '2.2'],
    ['3.14159', '2.71828'],
    ['1e-20', '1'],
    ['99999999999999999', '1'],
    ['1.23456789012345678', '0.00000000000000001'],
    ['1e308', '1e308'],
    ['0.3', '-0.1'],
    ['12345678901234567890', '1'],
    ['1000000', '0.1'],
    ['1', '1.'],
    ['1e400', '1'],
  ];
  const cmds: string[][] = [];
  cases.forEach(([a, b], i) =>
    cmds.push(['SET', `f:${i}`, a], ['INCRBYFLOAT', `f:${i}`, b], ['GET', `f:${i}`]),
  );
  cmds.push(
    ['INCRBYFLOAT', 'f:new', '2.5'],
    ['INCRBYFLOAT', 'f:new', 'abc'],
    ['INCRBYFLOAT', 'f:new', 'inf'],
    ['INCRBYFLOAT', 'f:new', 'nan'],
    ['INCRBYFLOAT', 'f:new', ' 1'],
    ['INCRBYFLOAT', 'f:new', ''],
    ['SET', 'f:bad', 'x1'],
    ['INCRBYFLOAT', 'f:bad', '1'],
    ['SET', 'f:inf', 'inf'],
    ['INCRBYFLOAT', 'f:inf', '1'],
  );
  return diff(t, cmds);
});

t.test('LCS plain, LEN, IDX with MINMATCHLEN/WITHMATCHLEN', (t) => {
  // Keys in different hash tags so the two values usually live in different shards.
  const pairs: [string, string][] = [
    ['ohmytext', 'mynewtext'],
    ['', 'abc'],
    ['abc', 'xyz'],
    ['rosettacode', 'raisethysword'],
    ['a\x00b\r\nc', 'xa\x00\r\nc'],
  ];
  const cmds: string[][] = [];
  pairs.forEach(([a, b], i) => {
    const k1 = `{lcs-a${i}}k`;
    const k2 = `{lcs-b${i}}k`;
    cmds.push(['MSET', k1, a, k2, b]);
    cmds.push(['LCS', k1, k2]);
    cmds.push(['LCS', k1, k2, 'LEN']);
    cmds.push(['LCS', k1, k2, 'IDX']);
    cmds.push(['LCS', k1, k2, 'IDX', 'MINMATCHLEN', '4']);
    cmds.push(['LCS', k1, k2, 'IDX', 'WITHMATCHLEN']);
    cmds.push(['LCS', k1, k2, 'IDX', 'MINMATCHLEN', '2', 'WITHMATCHLEN']);
  });
  cmds.push(
    ['LCS', '{lcs-a0}k', '{lcs-none}k'],
    ['LCS', '{lcs-none}a', '{lcs-none}b', 'IDX'],
    ['LCS', '{lcs-a0}k', '{lcs-b0}k', 'LEN', 'IDX'],
    ['LCS', '{lcs-a0}k', '{lcs-b0}k', 'MINMATCHLEN'],
    ['LCS', '{lcs-a0}k', '{lcs-b0}k', 'MINMATCHLEN', 'x'],
    ['LCS', '{lcs-a0}k', '{lcs-b0}k', 'MINMATCHLEN', '-1', 'IDX'],
    ['LCS', '{lcs-a0}k', '{lcs-b0}k', 'BOGUS'],
    ['LCS', '{lcs-a0}k'],
  );
  return diff(t, cmds);
});

t.test('SET/SETEX with a huge expire says invalid expire time (PXAT at the limit is accepted)', (t) =>
  diff(t, [
    ['SET', 'h:a', 'v', 'EX', '9223372036854775807'],
    ['SET', 'h:a', 'v', 'PX', '9223372036854775807'],
    ['SET', 'h:a', 'v', 'PXAT', '9223372036854775807'],
    ['SETEX', 'h:a', '9223372036854775807', 'v'],
    ['DEL', 'h:a'],
  ]),
);
// Regressions: these diverged from Redis once (fixed in strings.ts / decimal.ts).
t.test('GETEX on a missing key replies nil before validating the expire', (t) =>
  diff(t, [
    ['GETEX', 'h:none', 'EX', '0'],
    ['GETEX', 'h:none', 'PX', '-1'],
  ]),
);
t.test('MSETNX with a repeated key stores one key holding the last value', async (t) => {
  await diff(t, [
    ['FLUSHALL'],
    ['MSETNX', 'h:dup', '1', 'h:dup', '2'],
    ['DBSIZE'],
    ['GET', 'h:dup'],
    ['DEL', 'h:dup'],
    ['EXISTS', 'h:dup'],
    ['DBSIZE'],
  ]);
});
t.test('GETRANGE accepts 64-bit range bounds', (t) =>
  diff(t, [
    ['SET', 'h:r', 'Hello World'],
    ['GETRANGE', 'h:r', '0', '9223372036854775807'],
    ['GETRANGE', 'h:r', '-9223372036854775808', '2'],
    ['GETRANGE', 'h:r', '-9223372036854775808', '9223372036854775807'],
    ['GETRANGE', 'h:r', '9223372036854775807', '-9223372036854775808'],
  ]),
);
t.test('INCRBYFLOAT prints long double rounding like Redis', (t) =>
  diff(t, [
    ['SET', 'h:f', '123456789.123'],
    ['INCRBYFLOAT', 'h:f', '0.000001'],
    ['SET', 'h:g', '1.7e308'],
    ['INCRBYFLOAT', 'h:g', '1.7e308'],
  ]),
);

t.test('values are binary safe (NUL, CR, LF, high bytes)', async (t) => {
  const weird = Buffer.from([0, 13, 10, 0, 255, 36, 42, 13, 10, 13, 10, 0, 128]);
  const key = Buffer.from([107, 0, 13, 10, 1]);
  await diff(t, [
    ['SET', key, weird],
    ['GET', key],
    ['STRLEN', key],
    ['APPEND', key, weird],
    ['GETRANGE', key, '2', '20'],
    ['SETRANGE', key, '1', Buffer.from([0, 0])],
    ['GET', key],
    ['MGET', key, 'bin:none', key],
  ]);
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  await r.set('bin:all', all);
  t.same(await r.getBuffer('bin:all'), all, 'all 256 byte values round-trip');
});

t.test('a 20 MB value round-trips through the ring spill path', async (t) => {
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  const big = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  big[big.length - 1] = 0x7e;
  // Several keys so both shards see a big frame.
  for (const k of ['big:a', 'big:b', 'big:{x}']) {
    t.equal(await r.set(k, big), 'OK');
    t.equal(await r.strlen(k), big.length);
    const got = await r.getBuffer(k);
    t.ok(got !== null && got.equals(big), `${k} value identical`);
    t.equal((await r.getrangeBuffer(k, -1, -1)).toString(), '~');
  }
  t.equal(await r.append('big:a', 'tail'), big.length + 4);
  t.equal(await r.getrange('big:a', -5, -1), '~tail');
  const m = await r.mgetBuffer('big:a', 'big:b', 'big:none');
  t.equal(m[0]!.length, big.length + 4);
  t.ok(m[1]!.equals(big));
  t.equal(m[2], null);
  t.equal(await r.del('big:a', 'big:b', 'big:{x}'), 3);
  t.equal(await r.ping(), 'PONG');
});
