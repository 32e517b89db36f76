/**
 * Keyspace commands against Tessera with four shards, compared reply-for-reply with a real
 * redis-server. Key pairs are chosen so RENAME/COPY run both within one shard and across
 * shards (the two-phase hold path).
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { keySlotOfString } from '../../src/router/keyslot.ts';
import { startTessera } from '../helpers/server.ts';
import { rawConnect, replies, resp, startOraclePair, type RawClient, type TT } from '../helpers/raw.ts';

const SHARDS = 4;
const { tes, red, tc, rc } = await startOraclePair(t, ['--shards', String(SHARDS)]);

/** The shard Tessera routes `key` to (contiguous slot ranges). */
const shardOf = (key: string, n = SHARDS): number => Math.floor((keySlotOfString(key) * n) / 16384);

const ask = (c: RawClient, args: string[]): Promise<string> => c.ask(resp(...args), replies(1));

async function diff(tt: TT, cmds: string[][], todo?: string): Promise<void> {
  for (const cmd of cmds) {
    const want = await ask(rc, cmd);
    const got = await ask(tc, cmd);
    const name = cmd.join(' ');
    const msg = got === want ? name : `${name}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`;
    tt.equal(got, want, msg, todo === undefined ? {} : { todo });
  }
}

/** 'SET k v; TTL k' → [['SET', 'k', 'v'], ['TTL', 'k']] (arguments without spaces only). */
function script(...lines: string[]): string[][] {
  return lines.flatMap((l) => l.split(';')).map((c) => c.trim().split(/\s+/));
}

async function flushBoth(): Promise<void> {
  await ask(tc, ['FLUSHALL']);
  await ask(rc, ['FLUSHALL']);
}

/** A key in the same shard as `key` and one in a different shard. */
function partners(key: string): { same: string; other: string } {
  let same = '';
  let other = '';
  for (let i = 0; same === '' || other === ''; i++) {
    const k = `${key}:p${i}`;
    if (shardOf(k) === shardOf(key)) same ||= k;
    else other ||= k;
  }
  return { same, other };
}

t.test('DEL UNLINK EXISTS TOUCH count keys, duplicates included', async (t) => {
  await flushBoth();
  const keys = Array.from({ length: 10 }, (_, i) => `d:${i}`).join(' ');
  await diff(
    t,
    script(
      `MSET ${keys.replaceAll(' ', ' v ')} v; EXISTS d:0 d:0 d:1 d:none d:1; EXISTS ${keys} ${keys}`,
      'TOUCH d:0 d:0 d:none d:5; DEL d:0 d:0 d:none; DEL d:1 d:2 d:3 d:1; UNLINK d:4 d:5 d:4 d:none',
      `EXISTS ${keys}; DBSIZE; DEL; EXISTS`,
    ),
  );
});

t.test('TYPE', (t) => diff(t, script('SET ty:s v; TYPE ty:s; TYPE ty:none; TYPE')));

t.test('EXPIRE family with NX XX GT LT and negative values', async (t) => {
  const future = String(Math.floor(Date.now() / 1000) + 1000);
  await diff(
    t,
    script(
      'SET e:a v; EXPIRE e:a 100 XX; EXPIRE e:a 100 GT; EXPIRE e:a 100 LT; TTL e:a',
      'EXPIRE e:a 200 NX; EXPIRE e:a 50 GT; EXPIRE e:a 300 GT; TTL e:a',
      'EXPIRE e:a 400 LT; EXPIRE e:a 30 LT; TTL e:a; EXPIRE e:a 60 XX; TTL e:a',
      'EXPIRE e:a 10 NX XX; EXPIRE e:a 10 GT LT; EXPIRE e:a 10 NX GT; EXPIRE e:a 10 BOGUS',
      'EXPIRE e:a abc; EXPIRE e:a 1.5; EXPIRE e:a 9223372036854775807; EXPIRE e:none 10',
      'PEXPIRE e:a 9223372036854775807; EXPIRE e:a -9223372036854775808',
      `EXPIREAT e:a ${future}; EXPIRETIME e:a; PEXPIREAT e:a ${future}000; PEXPIRETIME e:a`,
      'EXPIRETIME e:none; PERSIST e:a; PERSIST e:a; PERSIST e:none; TTL e:a; PTTL e:a',
      'EXPIRETIME e:a; TTL e:none; PTTL e:none; EXPIRE e:a -1; EXISTS e:a',
      'SET e:b v; PEXPIRE e:b 0; EXISTS e:b; SET e:c v; EXPIREAT e:c 1; EXISTS e:c',
      'SET e:d v EX 100; EXPIRE e:d -5 GT; EXPIRE e:d -5 LT; EXISTS e:d',
      'SET e:g v; EXPIRE e:g -5 LT; EXISTS e:g',
    ),
  );
  // PTTL is close to the requested time and keys really expire.
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  await r.set('e:p', 'v', 'PX', 5000);
  const pttl = await r.pttl('e:p');
  t.ok(pttl > 4000 && pttl <= 5000, `PTTL ${pttl} near 5000`);
  await r.set('e:short', 'v', 'PX', 50);
  await new Promise((res) => setTimeout(res, 120));
  t.equal(await r.get('e:short'), null, 'expired key is gone');
  t.equal(await r.exists('e:short'), 0);

  // Active expiry: keys nobody touches still disappear (DBSIZE counts only live keys).
  await r.select(6);
  const many = Array.from({ length: 100 }, (_, i) => `ax:${i}`);
  const p = r.pipeline();
  for (const k of many) p.set(k, 'v', 'PX', 50);
  p.set('ax:keep', 'v');
  await p.exec();
  let size = await r.dbsize();
  for (let i = 0; i < 40 && size !== 1; i++) {
    await new Promise((res) => setTimeout(res, 100));
    size = await r.dbsize();
  }
  t.equal(size, 1, 'expired keys are reclaimed without being accessed');
  t.match(await r.info('stats'), /expired_keys:[1-9]\d*/);
  await r.flushdb();
});

t.test('RENAME RENAMENX COPY within one shard and across shards', async (t) => {
  await flushBoth();
  const cmds: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const src = `rn:${i}`;
    const { same, other } = partners(src);
    for (const dst of [same, other]) {
      cmds.push(
        ['SET', src, `val-${i}`, 'EX', '1000'],
        ['RENAME', src, dst],
        ['EXISTS', src],
        ['GET', dst],
        ['TTL', dst],
        ['RENAMENX', dst, src],
        ['SET', dst, 'again'],
        ['RENAMENX', dst, src],
        ['RENAME', dst, src],
        ['GET', src],
        ['TTL', src],
        ['COPY', src, dst],
        ['COPY', src, dst],
        ['TTL', dst],
        ['SET', src, 'changed'],
        ['COPY', src, dst, 'REPLACE'],
        ['GET', dst],
        ['TTL', dst],
        ['COPY', src, dst, 'DB', '3'],
        ['SELECT', '3'],
        ['GET', dst],
        ['SELECT', '0'],
        ['COPY', src, dst, 'DB', '3'],
        ['COPY', src, dst, 'DB', '3', 'REPLACE'],
        ['DEL', src, dst],
      );
    }
  }
  cmds.push(
    ['RENAME', 'rn:none', 'rn:x'],
    ['RENAMENX', 'rn:none', 'rn:x'],
    ['SET', 'rn:self', 'v'],
    ['RENAME', 'rn:self', 'rn:self'],
    ['RENAMENX', 'rn:self', 'rn:self'],
    ['COPY', 'rn:self', 'rn:self'],
    ['COPY', 'rn:self', 'rn:self', 'DB', '1'],
    ['COPY', 'rn:none', 'rn:x'],
    ['COPY', 'rn:self', 'rn:x', 'DB', '16'],
    ['COPY', 'rn:self', 'rn:x', 'DB', 'abc'],
    ['COPY', 'rn:self', 'rn:x', 'BOGUS'],
    ['COPY', 'rn:self', 'rn:x', 'DB'],
    ['DBSIZE'],
  );
  t.ok(
    cmds.some((c) => c[0] === 'RENAME' && shardOf(c[1]!) !== shardOf(c[2]!)),
    'some renames cross shards',
  );
  await diff(t, cmds);
});

t.test('MOVE and SWAPDB', async (t) => {
  await flushBoth();
  await diff(
    t,
    script(
      'SET mv:a v EX 500; MOVE mv:a 2; EXISTS mv:a; SELECT 2; GET mv:a; TTL mv:a; SET mv:b in2',
      'SELECT 0; SET mv:b in0; MOVE mv:b 2; GET mv:b; MOVE mv:none 2',
      'MOVE mv:b 0; MOVE mv:b 16; MOVE mv:b -1; MOVE mv:b x',
      'MSET sw:1 a sw:2 b sw:3 c; SWAPDB 0 2; MGET mv:a mv:b sw:1 sw:2 sw:3; DBSIZE',
      'SELECT 2; MGET mv:a mv:b sw:1 sw:2 sw:3; DBSIZE; SELECT 0',
      'SWAPDB 0 0; SWAPDB 0 16; SWAPDB a 1; SWAPDB 1 b; SWAPDB -1 1',
    ),
  );
});

t.test('FLUSHDB and FLUSHALL', (t) =>
  diff(
    t,
    script(
      'MSET fl:1 a fl:2 b; SELECT 4; MSET fl:1 a fl:2 b fl:3 c; FLUSHDB; DBSIZE; SELECT 0; DBSIZE',
      'FLUSHDB BOGUS; FLUSHDB ASYNC; DBSIZE; SET fl:x 1; SELECT 5; SET fl:y 1; FLUSHALL SYNC',
      'DBSIZE; SELECT 0; DBSIZE; FLUSHALL SYNC ASYNC',
    ),
  ),
);

t.test('KEYS with patterns', async (t) => {
  await flushBoth();
  const names = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'h[a]llo', 'x', 'ab{c}', 'a\\b'];
  await ask(tc, ['MSET', ...names.flatMap((k) => [k, '1'])]);
  await ask(rc, ['MSET', ...names.flatMap((k) => [k, '1'])]);
  const r = new Redis({ port: tes.port, lazyConnect: true });
  const o = new Redis({ port: red.port, lazyConnect: true });
  await Promise.all([r.connect(), o.connect()]);
  t.teardown(() => (r.disconnect(), o.disconnect()));
  for (const pat of [
    '*',
    'h?llo',
    'h*llo',
    'h[ae]llo',
    'h[^e]llo',
    'h[a-b]llo',
    'h\\*llo',
    '*{c}',
    'a\\\\b',
    'nomatch*',
    '[',
  ]) {
    t.same((await r.keys(pat)).sort(), (await o.keys(pat)).sort(), `KEYS ${pat}`);
  }
});

t.test('SCAN over three shards visits every key and ends at cursor 0', async (t) => {
  const s3 = await startTessera(['--shards', '3']);
  t.teardown(() => s3.stop());
  const r = new Redis({ port: s3.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  const N = 500;
  const all = Array.from({ length: N }, (_, i) => `sc:${i}`);
  await r.mset(...all.flatMap((k) => [k, 'v']));
  await r.set('other:1', 'v');
  const shardsHit = new Set(all.map((k) => shardOf(k, 3)));
  t.equal(shardsHit.size, 3, 'keys spread over all three shards');

  async function fullScan(...opts: (string | number)[]): Promise<{ keys: string[]; calls: number }> {
    let cursor = '0';
    const keys: string[] = [];
    let calls = 0;
    do {
      const [next, batch] = (await r.call('SCAN', cursor, ...opts)) as [string, string[]];
      keys.push(...batch);
      cursor = next;
      calls++;
      if (calls > 10000) throw new Error('SCAN did not terminate');
    } while (cursor !== '0');
    return { keys, calls };
  }
  const plain = await fullScan();
  t.same(new Set(plain.keys), new Set([...all, 'other:1']), 'every key at least once');
  const m = await fullScan('MATCH', 'sc:1*', 'COUNT', 50);
  t.same(new Set(m.keys), new Set(all.filter((k) => k.startsWith('sc:1'))), 'MATCH filters');
  t.ok(m.keys.every((k) => k.startsWith('sc:1')));
  const big = await fullScan('COUNT', 1000);
  t.ok(big.calls <= 6, `COUNT 1000 needs few calls (${big.calls})`);
  const ty = await fullScan('TYPE', 'string', 'MATCH', 'other:*');
  t.same(ty.keys, ['other:1'], 'TYPE string + MATCH');
  t.same((await fullScan('TYPE', 'list')).keys, [], 'TYPE list finds nothing');
  const huge = await fullScan('COUNT', '9223372036854775807');
  t.equal(huge.keys.length, N + 1, 'a huge COUNT returns everything');
  // Cursors Redis accepts (strtoul): these must not be errors.
  for (const cur of ['', '-1', '+0', '18446744073709551615']) {
    const [next, batch] = (await r.call('SCAN', cur)) as [string, string[]];
    t.ok(/^\d+$/.test(next) && Array.isArray(batch), `SCAN '${cur}' accepted`);
  }

  const c = await rawConnect(s3.port);
  const o = await rawConnect(red.port);
  t.teardown(() => (c.end(), o.end()));
  for (const args of [
    ['SCAN', 'abc'],
    ['SCAN', ' 5'],
    ['SCAN', '5x'],
    ['SCAN', '18446744073709551616'],
    ['SCAN', '0', 'COUNT', '0'],
    ['SCAN', '0', 'COUNT', '-3'],
    ['SCAN', '0', 'COUNT', 'x'],
    ['SCAN', '0', 'COUNT', '01'],
    ['SCAN', '0', 'COUNT', '99999999999999999999'],
    ['SCAN', '0', 'MATCH'],
    ['SCAN', '0', 'BOGUS', '1'],
  ]) {
    t.equal(await ask(c, args), await ask(o, args), args.join(' '));
  }
});

t.test('SCAN guarantee holds while the table grows and shrinks between calls', async (t) => {
  const s2 = await startTessera(['--shards', '2']);
  t.teardown(() => s2.stop());
  const r = new Redis({ port: s2.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  const base = Array.from({ length: 300 }, (_, i) => `keep:${i}`);
  await r.mset(...base.flatMap((k) => [k, 'v']));
  const extra = Array.from({ length: 4000 }, (_, i) => `grow:${i}`);
  const seen = new Set<string>();
  let cursor = '0';
  let step = 0;
  do {
    const [next, batch] = (await r.call('SCAN', cursor, 'COUNT', '20')) as [string, string[]];
    for (const k of batch) seen.add(k);
    cursor = next;
    step++;
    if (step === 3) await r.mset(...extra.flatMap((k) => [k, 'v'])); // several doublings
    if (step === 30) await r.del(...extra); // and shrinking again
  } while (cursor !== '0' && step < 100000);
  const missed = base.filter((k) => !seen.has(k));
  t.same(missed, [], `keys present for the whole scan are returned (${missed.length} of 300 missed)`);
});

t.test('RANDOMKEY and DBSIZE', async (t) => {
  await flushBoth();
  await diff(t, [['RANDOMKEY'], ['DBSIZE']]);
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  const keys = Array.from({ length: 40 }, (_, i) => `rk:${i}`);
  await r.mset(...keys.flatMap((k) => [k, 'v']));
  t.equal(await r.dbsize(), 40);
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add((await r.randomkey())!);
  t.ok(
    [...seen].every((k) => keys.includes(k)),
    'RANDOMKEY returns existing keys',
  );
  t.ok(seen.size > 5, `RANDOMKEY varies (${seen.size} distinct)`);
  await r.select(9);
  t.equal(await r.randomkey(), null, 'empty db');
  t.equal(await r.dbsize(), 0);
});

t.test('OBJECT ENCODING and IDLETIME', async (t) => {
  await flushBoth();
  const long = 'x'.repeat(44);
  await diff(t, [
    ['SET', 'o:int', '12345'],
    ['SET', 'o:neg', '-42'],
    ['SET', 'o:big', '99999999999999999999'],
    ['SET', 'o:lead0', '0123'],
    ['SET', 'o:emb', 'hello'],
    ['SET', 'o:44', long],
    ['SET', 'o:45', long + 'y'],
    ['SET', 'o:app', 'ab'],
    ['APPEND', 'o:app', 'c'],
    ['SETRANGE', 'o:rng', '0', 'ab'],
    ['INCR', 'o:ctr'],
    ['INCRBYFLOAT', 'o:flt', '1.5'],
    ...[
      'o:int',
      'o:neg',
      'o:big',
      'o:lead0',
      'o:emb',
      'o:44',
      'o:45',
      'o:app',
      'o:rng',
      'o:ctr',
      'o:flt',
      'o:none',
    ].map((k) => ['OBJECT', 'ENCODING', k]),
    ['OBJECT', 'IDLETIME', 'o:none'],
    ['OBJECT', 'REFCOUNT', 'o:none'],
    ['OBJECT', 'FREQ', 'o:emb'],
    ['OBJECT', 'BOGUS', 'o:emb'],
    ['OBJECT', 'ENCODING'],
  ]);
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  // The LRU clock has one-second resolution, so a second boundary may add 1.
  t.ok(((await r.object('IDLETIME', 'o:emb')) as number) <= 1, 'just written');
  await new Promise((res) => setTimeout(res, 2100));
  const idle = (await r.object('IDLETIME', 'o:emb')) as number;
  t.ok(idle >= 1 && idle <= 3, `idle ${idle}s after 2.1s`);
  await r.get('o:emb');
  const after = (await r.object('IDLETIME', 'o:emb')) as number;
  t.ok(after <= 1 && after < idle, `GET resets the idle time (${after})`);
});
