/**
 * LATENCY (HISTOGRAM, monitor events), MEMORY (USAGE, STATS, DOCTOR) and DEBUG (SLEEP, OBJECT,
 * enable-debug-command), with reply shapes and error strings compared against a real
 * redis-server 7.0 where they are meant to match.
 */
import os from 'node:os';
import t from 'tap';
import { Redis } from 'ioredis';
import { rawConnect, resp } from '../helpers/raw.ts';
import { RawClient } from '../helpers/resp-client.ts';
import { startRedis, startTessera } from '../helpers/server.ts';

const [tes, red] = await Promise.all([
  startTessera(['--shards', '2', '--enable-debug-command', 'yes', '--metrics-port', '0']),
  startRedis(['--enable-debug-command', 'yes']),
]);
const r = new Redis({ port: tes.port, lazyConnect: true });
const o = new Redis({ port: red.port, lazyConnect: true });
await Promise.all([r.connect(), o.connect()]);
const [tc, rc, tc3, rc3] = await Promise.all([
  RawClient.connect(tes.port),
  RawClient.connect(red.port),
  RawClient.connect(tes.port),
  RawClient.connect(red.port),
]);
await Promise.all([tc3.call('HELLO', '3'), rc3.call('HELLO', '3')]);
t.teardown(async () => {
  for (const c of [tc, rc, tc3, rc3]) c.close();
  r.disconnect();
  o.disconnect();
  await Promise.all([tes.stop(), red.stop()]);
});

/** Both servers, same command: [tessera reply, redis reply] as canonical strings. */
const both = (c: [RawClient, RawClient], ...cmd: string[]): Promise<[string, string]> =>
  Promise.all([c[0].call(...cmd), c[1].call(...cmd)]);
const RESP2: [RawClient, RawClient] = [tc, rc];
const RESP3: [RawClient, RawClient] = [tc3, rc3];

/** Integers and doubles replaced by placeholders: the reply's shape and types only. */
const shape = (s: string): string => s.replace(/:-?\d+/g, ':N').replace(/,-?[\d.e+-]+(?=[,\]}]|$)/g, ',D');

t.test('LATENCY HISTOGRAM: same shape as Redis in RESP2 and RESP3', async (t) => {
  await Promise.all([r.flushall(), o.flushall()]);
  await Promise.all([r.call('CONFIG', 'RESETSTAT'), o.call('CONFIG', 'RESETSTAT')]);
  for (const x of [r, o]) {
    await x.set('h1', 'a');
    await x.set('h2', 'b');
    await x.set('h3', 'c');
    await x.get('h1');
  }
  // The bucket count depends on timings: collapse the bucket maps before comparing.
  const buckets2 = (s: string): string => s.replace(/\*\[(:\d+(, )?)+\]/g, '*[B]');
  const buckets3 = (s: string): string => s.replace(/%\{(:\d+: :\d+(, )?)+\}/g, '%{B}');
  const [t2, r2] = await both(RESP2, 'LATENCY', 'HISTOGRAM', 'set');
  t.equal(shape(buckets2(t2)), shape(buckets2(r2)), `RESP2 ${t2}`);
  const [t3, r3] = await both(RESP3, 'LATENCY', 'HISTOGRAM', 'set');
  t.equal(shape(buckets3(t3)), shape(buckets3(r3)), `RESP3 ${t3}`);
  t.match(t3, /^%\{\$"set": %\{\$"calls": :3, \$"histogram_usec": %\{:\d+: :\d+/);

  // Semantics: powers of two ascending, counts cumulative, ending at calls.
  const h = (await r.call('LATENCY', 'HISTOGRAM', 'set', 'get', 'nosuch', 'config')) as unknown[];
  const ho = (await o.call('LATENCY', 'HISTOGRAM', 'set', 'get', 'nosuch', 'config')) as unknown[];
  const names = (x: unknown[]): string[] => x.filter((_, i) => i % 2 === 0).map(String);
  t.same(names(h).sort(), names(ho).sort(), 'same commands listed (unknown skipped, container expanded)');
  const entry = h[names(h).indexOf('set') * 2 + 1] as [string, number, string, number[]];
  t.same([entry[0], entry[1], entry[2]], ['calls', 3, 'histogram_usec']);
  const cdf = entry[3];
  for (let i = 0; i < cdf.length; i += 2) {
    t.equal(Math.log2(cdf[i]!) % 1, 0, `bucket ${cdf[i]} is a power of two`);
    if (i > 0) t.ok(cdf[i]! > cdf[i - 2]! && cdf[i + 1]! > cdf[i - 1]!, 'ascending, cumulative');
  }
  t.equal(cdf.at(-1), 3, 'last cumulative count = calls');
  const all = names((await r.call('LATENCY', 'HISTOGRAM')) as unknown[]);
  t.ok(
    all.includes('set') && all.includes('get') && all.includes('config|resetstat'),
    'no args: every command',
  );
});

t.test('LATENCY HELP, errors and arity as Redis', async (t) => {
  const [mine, theirs] = await Promise.all([r.call('LATENCY', 'HELP'), o.call('LATENCY', 'HELP')]);
  const redisLines = theirs as string[];
  let at = 0;
  for (const line of mine as string[]) {
    const i = redisLines.indexOf(line, at);
    t.ok(i >= 0, `help line in Redis's order: ${line}`);
    at = i + 1;
  }
  for (const cmd of [
    ['LATENCY', 'FOO'],
    ['LATENCY', 'LATEST', 'x'],
    ['LATENCY', 'HISTORY'],
    ['LATENCY', 'DOCTOR', 'x'],
    ['LATENCY', 'HISTORY', 'nosuch-event'],
    ['LATENCY', 'RESET', 'nosuch-event'],
    ['LATENCY'],
  ]) {
    const [a, b] = await both(RESP2, ...cmd);
    t.equal(a, b, cmd.join(' '));
  }
});

t.test('latency monitor: a DEBUG SLEEP over the threshold is an event', async (t) => {
  await Promise.all([
    r.call('CONFIG', 'SET', 'latency-monitor-threshold', '0'),
    o.call('CONFIG', 'SET', 'latency-monitor-threshold', '0'),
  ]);
  await Promise.all([r.call('LATENCY', 'RESET'), o.call('LATENCY', 'RESET')]);
  let [a, b] = await both(RESP3, 'LATENCY', 'DOCTOR');
  t.equal(a, b, 'DOCTOR when disabled (verbatim text)');
  await Promise.all([
    r.call('CONFIG', 'SET', 'latency-monitor-threshold', '100'),
    o.call('CONFIG', 'SET', 'latency-monitor-threshold', '100'),
  ]);
  [a, b] = await both(RESP2, 'LATENCY', 'DOCTOR');
  t.equal(a, b, 'DOCTOR with no spike');
  await Promise.all([r.call('DEBUG', 'SLEEP', '0.05'), o.call('DEBUG', 'SLEEP', '0.05')]);
  t.same(await r.call('LATENCY', 'LATEST'), [], 'below the threshold: nothing');
  await Promise.all([r.call('DEBUG', 'SLEEP', '0.15'), o.call('DEBUG', 'SLEEP', '0.15')]);
  [a, b] = await both(RESP3, 'LATENCY', 'LATEST');
  t.equal(shape(a), shape(b), `LATEST shape ${a}`);
  const latest = (await r.call('LATENCY', 'LATEST')) as [string, number, number, number][];
  t.equal(latest.length, 1);
  const [name, time, ms, max] = latest[0]!;
  t.equal(name, 'command');
  t.ok(Math.abs(time - Date.now() / 1000) < 10, 'unix time of the sample');
  t.ok(ms >= 150 && ms < 2000, `latest ${ms} ms`);
  t.ok(max >= ms);
  [a, b] = await both(RESP2, 'LATENCY', 'HISTORY', 'command');
  t.equal(shape(a), shape(b), `HISTORY shape ${a}`);
  t.same(await r.call('LATENCY', 'HISTORY', 'command'), [[time, ms]]);
  const doctor = (await r.call('LATENCY', 'DOCTOR')) as string;
  t.match(doctor, /^Dave, I have observed latency spikes/);
  t.match(doctor, /1\. command: 1 latency spikes \(average \d+ms, mean deviation 0ms, period [\d.]+ sec\)/);
  [a, b] = await both(RESP2, 'LATENCY', 'RESET', 'command', 'nosuch');
  t.equal(a, b, 'RESET counts the events it removed');
  t.equal(a, ':1');
  t.same(await r.call('LATENCY', 'LATEST'), []);
  await Promise.all([
    r.call('CONFIG', 'SET', 'latency-monitor-threshold', '0'),
    o.call('CONFIG', 'SET', 'latency-monitor-threshold', '0'),
  ]);
});

t.test('latency monitor: shard events (commands and expire cycles) reach LATENCY', async (t) => {
  await r.flushall();
  await r.call('LATENCY', 'RESET');
  await r.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
  t.teardown(async () => {
    await r.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await r.call('CONFIG', 'SET', 'active-expire-budget-ms', '2');
    await r.call('LATENCY', 'RESET');
    await r.flushall();
  });
  // Many keys expiring at the same millisecond, and a budget letting one step take them all.
  await r.call('CONFIG', 'SET', 'active-expire-budget-ms', '100');
  const N = 20000;
  const t0 = Date.now();
  let p = r.pipeline();
  for (let i = 0; i < N; i++) p.set(`e:${i}`, 'v');
  await p.exec();
  // Setting the TTLs costs about as much as writing the keys: leave a wide margin.
  const at = Date.now() + 2 * (Date.now() - t0) + 500;
  p = r.pipeline();
  for (let i = 0; i < N; i++) p.pexpireat(`e:${i}`, at);
  await p.exec();
  t.ok(Date.now() < at, 'TTLs set before they expire');
  while ((await r.dbsize()) > 0) await new Promise((res) => setTimeout(res, 50));
  const events = ((await r.call('LATENCY', 'LATEST')) as [string, number, number, number][]).map((e) => e[0]);
  t.ok(events.includes('expire-cycle'), `expire-cycle recorded (events: ${events.join(', ')})`);
  const hist = (await r.call('LATENCY', 'HISTORY', 'expire-cycle')) as [number, number][];
  t.ok(
    hist.length >= 1 && hist.every(([, ms]) => ms >= 1),
    `samples at or above 1 ms: ${JSON.stringify(hist)}`,
  );
});

t.test('DEBUG SLEEP blocks every client, DEBUG OBJECT matches Redis', async (t) => {
  const a = await RawClient.connect(tes.port);
  const b = await RawClient.connect(tes.port);
  t.teardown(() => {
    a.close();
    b.close();
  });
  await b.call('PING');
  const t0 = performance.now();
  const slept = a.call('DEBUG', 'SLEEP', '0.2');
  await new Promise((res) => setTimeout(res, 20));
  const tp = performance.now();
  t.equal(await b.call('PING'), '+PONG');
  const pingWait = performance.now() - tp;
  t.equal(await slept, '+OK');
  t.ok(performance.now() - t0 >= 190, 'DEBUG SLEEP lasted 0.2 s');
  t.ok(pingWait >= 120, `a PING from another client waited ${Math.round(pingWait)} ms`);

  const values: [string, string][] = [
    ['d:str', 'bar'],
    ['d:int', '12345'],
    ['d:neg', '-100'],
    ['d:zero', '0123'],
    ['d:big', '12345678901'],
    ['d:raw', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN'],
  ];
  for (const [k, v] of values) await Promise.all([r.set(k, v), o.set(k, v)]);
  const norm = (s: string): string =>
    s.replace(/Value at:0x[0-9a-f]+ /, 'Value at:P ').replace(/ lru:\d+ lru_seconds_idle:\d+$/, '');
  for (const [k] of values) {
    const [x, y] = await both(RESP2, 'DEBUG', 'OBJECT', k);
    t.equal(norm(x), norm(y), `DEBUG OBJECT ${k}: ${x}`);
    t.match(
      x,
      /^\+Value at:0x[0-9a-f]+ refcount:1 encoding:\w+ serializedlength:\d+ lru:\d+ lru_seconds_idle:[0-2]$/,
    );
  }
  for (const cmd of [
    ['DEBUG', 'OBJECT', 'd:missing'],
    ['DEBUG', 'OBJECT'],
    ['DEBUG', 'SLEEP'],
    ['DEBUG', 'NOSUCH', 'x'],
    ['DEBUG'],
    ['DEBUG', 'SLEEP', 'abc'],
  ]) {
    const [x, y] = await both(RESP2, ...cmd);
    t.equal(x, y, cmd.join(' '));
  }
});

t.test('enable-debug-command: no refuses, local allows loopback only', async (t) => {
  const [off, local] = await Promise.all([
    startTessera(['--shards', '1', '--metrics-port', '0']),
    startTessera([
      '--shards',
      '1',
      '--metrics-port',
      '0',
      '--enable-debug-command',
      'local',
      '--bind',
      '0.0.0.0',
      '--protected-mode',
      'no',
    ]),
  ]);
  t.teardown(async () => {
    await Promise.all([off.stop(), local.stop()]);
  });
  const refused =
    '-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';
  const c1 = await RawClient.connect(off.port);
  t.equal(await c1.call('DEBUG', 'SLEEP', '0'), refused);
  t.equal(await c1.call('CONFIG', 'GET', 'enable-debug-command'), '*[$"enable-debug-command", $"no"]');
  t.match(await c1.call('CONFIG', 'SET', 'enable-debug-command', 'yes'), /can't set immutable config/);
  c1.close();
  const c2 = await RawClient.connect(local.port);
  t.equal(await c2.call('DEBUG', 'SLEEP', '0'), '+OK', 'loopback client allowed');
  c2.close();
  const ip = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  if (ip === undefined) {
    t.pass('non-loopback refusal', { skip: 'this machine has no non-loopback IPv4 address' });
    return;
  }
  const c3 = await rawConnect(local.port, ip);
  t.equal(await c3.ask(resp('DEBUG', 'SLEEP', '0')), `${refused}\r\n`, 'non-loopback client refused');
  c3.end();
});

t.test('MEMORY USAGE', async (t) => {
  await Promise.all([r.flushall(), o.flushall()]);
  await Promise.all([r.set('m:k', 'v'), o.set('m:k', 'v')]);
  for (const cmd of [
    ['MEMORY', 'USAGE', 'm:nosuch'],
    ['MEMORY', 'USAGE', 'm:k', 'SAMPLES'],
    ['MEMORY', 'USAGE', 'm:k', 'SAMPLES', '-1'],
    ['MEMORY', 'USAGE', 'm:k', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'm:nosuch', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'm:k', 'FOO'],
    ['MEMORY', 'USAGE'],
    ['MEMORY', 'FOO'],
    ['MEMORY', 'STATS', 'x'],
  ]) {
    const [x, y] = await both(RESP2, ...cmd);
    t.equal(x, y, `RESP2 ${cmd.join(' ')}`);
  }
  const [x3, y3] = await both(RESP3, 'MEMORY', 'USAGE', 'm:nosuch');
  t.equal(x3, y3, 'RESP3 null for a missing key');
  t.match(await tc.call('MEMORY', 'USAGE', 'm:k', 'SAMPLES', '0'), /^:\d+$/);
  // Record (24-byte header + key + value, rounded to its chunk) + index share (8 × slots / keys).
  const small = Number(await r.call('MEMORY', 'USAGE', 'm:k'));
  t.ok(small >= 24 + 3 + 1, `small key costs ${small} bytes`);
  await r.set('m:k', 'x'.repeat(10000));
  const big = Number(await r.call('MEMORY', 'USAGE', 'm:k'));
  t.ok(big >= 10027 && big < 10027 * 1.3 + 512, `10 KB value costs ${big} bytes`);
});

t.test('MEMORY STATS and DOCTOR: Redis field names and types', async (t) => {
  await Promise.all([r.flushall(), o.flushall()]);
  for (const x of [r, o]) {
    await x.set('s:a', '1');
    await x.set('s:b', '2', 'EX', 100);
  }
  const [a, b] = await both(RESP3, 'MEMORY', 'STATS');
  t.equal(shape(a), shape(b), 'same fields, order and types');
  const kv = (await r.call('MEMORY', 'STATS')) as unknown[];
  const m = new Map<string, unknown>();
  for (let i = 0; i < kv.length; i += 2) m.set(kv[i] as string, kv[i + 1]);
  t.equal(m.get('keys.count'), 2);
  const total = m.get('total.allocated') as number;
  t.ok(total > 0 && (m.get('peak.allocated') as number) >= total);
  t.equal((m.get('overhead.total') as number) + (m.get('dataset.bytes') as number), total);
  t.same(m.get('db.0'), [
    'overhead.hashtable.main',
    (m.get('db.0') as number[])[1],
    'overhead.hashtable.expires',
    0,
    'overhead.hashtable.slot-to-keys',
    0,
  ]);
  t.notOk(m.has('db.1'), 'only databases holding keys');
  const [d1, d2] = await both(RESP3, 'MEMORY', 'DOCTOR');
  t.equal(d1, d2, 'DOCTOR on a small instance (verbatim text)');
  const [mine, theirs] = await Promise.all([r.call('MEMORY', 'HELP'), o.call('MEMORY', 'HELP')]);
  let at = 0;
  for (const line of mine as string[]) {
    const i = (theirs as string[]).indexOf(line, at);
    t.ok(i >= 0, `help line in Redis's order: ${line}`);
    at = i + 1;
  }
});
