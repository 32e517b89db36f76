/**
 * Hostile and unusual input over raw sockets: malformed RESP, drip-fed and huge pipelines,
 * binary junk, abandoned commands, connection churn and connection limits. After each case
 * the daemon must keep serving other connections.
 */
import t from 'tap';
import { startRedis, startTessera, type Proc } from '../helpers/server.ts';
import { countReplies, rawConnect, replies, resp, splitReplies } from '../helpers/raw.ts';

const tes = await startTessera(['--shards', '2']);
const red = await startRedis();
t.teardown(async () => {
  await tes.stop();
  await red.stop();
});

async function alive(p: Proc): Promise<boolean> {
  const c = await rawConnect(p.port);
  try {
    return (await c.ask(resp('PING'), replies(1))) === '+PONG\r\n';
  } finally {
    c.end();
  }
}

/** Sends `bytes` on a fresh connection and returns everything received until the server closes. */
async function sendAndClose(port: number, bytes: Buffer | string): Promise<string> {
  const c = await rawConnect(port);
  c.write(bytes);
  const timer = setTimeout(() => c.end(), 3000);
  await c.closed;
  clearTimeout(timer);
  return c.data().toString('latin1');
}

t.test('malformed RESP gets a protocol error and the connection closes', async (t) => {
  const bystander = await rawConnect(tes.port);
  t.teardown(() => bystander.end());
  const cases: [string, string][] = [
    ['bad multibulk count', '*abc\r\n'],
    ['negative bulk length', '*1\r\n$-5\r\n'],
    ['huge bulk length', '*1\r\n$99999999999\r\n'],
    ['huge multibulk count', '*99999999999\r\n'],
    ['not a bulk', '*1\r\nXYZ\r\n'],
    ['bulk length junk', '*2\r\n$3\r\nGET\r\n$1x\r\n'],
    ['unbalanced quotes inline', 'SET "abc\r\n'],
    ['commands before the error are answered', '*1\r\n$4\r\nPING\r\n*1\r\n$q\r\n'],
  ];
  for (const [name, input] of cases) {
    const want = await sendAndClose(red.port, input);
    const got = await sendAndClose(tes.port, input);
    t.equal(got, want, name);
    t.match(got, /-ERR Protocol error: /, `${name}: protocol error`);
    t.equal(await bystander.ask(resp('PING'), replies(1)), '+PONG\r\n', `${name}: others unaffected`);
  }
  const inline = await sendAndClose(tes.port, 'x'.repeat(70 * 1024));
  t.equal(inline, '-ERR Protocol error: too big inline request\r\n');
  // Outside a multibulk, "$-5" is an inline command name: an unknown command, not a close.
  for (const [name, port] of [
    ['tessera', tes.port],
    ['redis', red.port],
  ] as const) {
    const c = await rawConnect(port);
    t.equal(
      await c.ask('$-5\r\n', replies(1)),
      "-ERR unknown command '$-5', with args beginning with: \r\n",
      `${name}: top-level $-5`,
    );
    c.end();
  }
});

t.test('RESP edge cases behave exactly like Redis', async (t) => {
  /** Sends input then an inline sentinel; collects replies until the sentinel or a close. */
  async function settle(port: number, input: string): Promise<string> {
    const c = await rawConnect(port);
    c.write(input + 'ECHO __end__\r\n');
    await c.until((b) => b.includes('__end__')).catch(() => undefined);
    c.end();
    return c.data().toString('latin1');
  }
  const cases = [
    '*0\r\n*-1\r\n\r\n\r\nPING\r\n',
    'SET "a b" "c\\x41\\n"\r\nGET "a b"\r\n',
    "ECHO 'it\\'s'\r\n",
    "SET 'it''s' x\r\n",
    '   PING   \r\nping\n',
    '*1\r\n$4\r\nPING\r\n\r\n',
    '*2\r\n$3\r\nGET\r\n$0\r\n\r\n',
    '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nabcXY',
    '*1\r\n+PING\r\n',
    '*2\r\n$4\r\nECHO\r\n$-1\r\n',
    '*1\r\n$04\r\nPING\r\n',
    '*01\r\n$4\r\nPING\r\n',
    '*+1\r\n$4\r\nPING\r\n',
    '* 1\r\n$4\r\nPING\r\n',
    '*1\n$4\r\nPING\r\n',
    '*3\r\n$3\r\nSET\r\n$2\r\nqa\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$2\r\nqa\r\n*1\r\n$x\r\n',
  ];
  for (const input of cases)
    t.equal(await settle(tes.port, input), await settle(red.port, input), JSON.stringify(input));
});

t.test('client-query-buffer-limit closes the connection', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  t.equal(await c.ask(resp('CONFIG', 'SET', 'client-query-buffer-limit', '1mb'), replies(1)), '+OK\r\n');
  const d = await rawConnect(tes.port);
  d.write(`*3\r\n$3\r\nSET\r\n$5\r\nqbl:k\r\n$${3 * 1024 * 1024}\r\n`);
  d.write(Buffer.alloc(2 * 1024 * 1024, 97));
  await d.closed;
  // Redis closes silently; Tessera says why first.
  t.match(d.data().toString(), /^(|-ERR Protocol error: client query buffer limit exceeded\r\n)$/);
  t.equal(await c.ask(resp('CONFIG', 'SET', 'client-query-buffer-limit', '1gb'), replies(1)), '+OK\r\n');
  t.equal(await c.ask(resp('EXISTS', 'qbl:k'), replies(1)), ':0\r\n');
});

t.test('bulk length over proto-max-bulk-len', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  t.equal(await c.ask(resp('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'), replies(1)), '+OK\r\n');
  const got = await sendAndClose(tes.port, `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${1024 * 1024 + 1}\r\n`);
  t.equal(got, '-ERR Protocol error: invalid bulk length\r\n');
  const ok = await rawConnect(tes.port);
  const exact = resp('SET', 'maxbulk', Buffer.alloc(1024 * 1024, 97));
  t.equal(await ok.ask(exact, replies(1)), '+OK\r\n', 'exactly proto-max-bulk-len is accepted');
  ok.end();
  t.equal(await c.ask(resp('CONFIG', 'SET', 'proto-max-bulk-len', '512mb'), replies(1)), '+OK\r\n');
  t.ok(await alive(tes));
});

t.test('a pipeline written one byte at a time', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  c.sock.setNoDelay(true);
  const input = Buffer.concat([
    resp('SET', 'drip:a', 'hello\r\nworld'),
    Buffer.from('PING\r\n'),
    resp('GET', 'drip:a'),
    resp('INCR', 'drip:n'),
    resp('ECHO', ''),
    resp('DEL', 'drip:a', 'drip:n'),
  ]);
  for (const byte of input) {
    c.write(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  await c.until(replies(6));
  t.same(splitReplies(c.data()), [
    '+OK\r\n',
    '+PONG\r\n',
    '$12\r\nhello\r\nworld\r\n',
    ':1\r\n',
    '$0\r\n\r\n',
    ':2\r\n',
  ]);
});

t.test('100k commands in one write get 100k replies in order', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  await c.ask(resp('DEL', '{a}ctr', '{b}ctr'), replies(1));
  const N = 100_000;
  const pa = resp('INCR', '{a}ctr');
  const pb = resp('INCR', '{b}ctr');
  const ping = resp('PING');
  const parts: Buffer[] = [];
  for (let i = 0; i < N; i++) parts.push(i % 3 === 0 ? pa : i % 3 === 1 ? pb : ping);
  await c.ask(Buffer.concat(parts), (b) => countReplies(b) >= N, 60_000);
  const got = splitReplies(c.data());
  t.equal(got.length, N, 'reply count');
  let a = 0;
  let b = 0;
  let bad = -1;
  for (let i = 0; i < N && bad < 0; i++) {
    const want = i % 3 === 0 ? `:${++a}\r\n` : i % 3 === 1 ? `:${++b}\r\n` : '+PONG\r\n';
    if (got[i] !== want) bad = i;
  }
  t.equal(bad, -1, bad < 0 ? 'all in order' : `first out-of-order reply at ${bad}: ${got[bad]}`);
});

t.test('NUL, CR and LF bytes inside keys', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  const k = Buffer.from('nul\x00key\r\nx');
  t.equal(await c.ask(resp('SET', k, 'v1'), replies(1)), '+OK\r\n');
  t.equal(await c.ask(resp('GET', 'nul'), replies(1)), '$-1\r\n', 'prefix before NUL is another key');
  t.equal(await c.ask(resp('GET', k), replies(1)), '$2\r\nv1\r\n');
  t.equal(await c.ask(resp('KEYS', 'nul*'), replies(1)), `*1\r\n$${k.length}\r\n${k.toString('latin1')}\r\n`);
  t.equal(await c.ask(resp('DEL', k), replies(1)), ':1\r\n');
});

t.test('binary junk never crashes the daemon', async (t) => {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let round = 0; round < 20; round++) {
    const junk = Buffer.alloc(2000 + round * 100);
    for (let i = 0; i < junk.length; i++) junk[i] = rand();
    if (round % 2 === 1) junk[0] = 42; // '*': take the multibulk path
    const c = await rawConnect(tes.port);
    c.write(junk);
    await Promise.race([c.closed, new Promise((r) => setTimeout(r, 100))]);
    c.end();
  }
  t.ok(await alive(tes), 'still answers PING');
});

t.test('a half-sent command followed by a disconnect is discarded', async (t) => {
  const c = await rawConnect(tes.port);
  c.write('*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc');
  await new Promise((r) => setTimeout(r, 50));
  c.end();
  const d = await rawConnect(tes.port);
  t.teardown(() => d.end());
  t.equal(await d.ask(resp('EXISTS', 'half'), replies(1)), ':0\r\n');
  // And a client that leaves with replies outstanding.
  const e = await rawConnect(tes.port);
  const many = Buffer.concat(Array.from({ length: 5000 }, () => resp('INCR', 'left:ctr')));
  e.write(many);
  e.end();
  t.ok(await alive(tes));
});

t.test('many connections opened and closed quickly', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  const clients = async (): Promise<number> => {
    const info = await c.ask(resp('INFO', 'clients'), replies(1));
    return Number(/connected_clients:(\d+)/.exec(info)![1]);
  };
  const before = await clients();
  const batch = await Promise.all(Array.from({ length: 200 }, () => rawConnect(tes.port)));
  batch.forEach((s, i) => {
    if (i % 3 === 0) s.write(resp('PING'));
    if (i % 3 === 1) s.write('*2\r\n$3\r\nGET');
    s.end();
  });
  let now = await clients();
  for (let i = 0; i < 50 && now !== before; i++) {
    await new Promise((r) => setTimeout(r, 50));
    now = await clients();
  }
  t.equal(now, before, 'connected_clients back to where it was');
  t.ok(await alive(tes));
});

t.test('unauthenticated clients get the small multibulk limits', async (t) => {
  const s = await startTessera(['--requirepass', 'pw']);
  const o = await startRedis(['--requirepass', 'pw']);
  t.teardown(async () => {
    await s.stop();
    await o.stop();
  });
  const manyArgs = resp('DEL', ...Array.from({ length: 20 }, (_, i) => `k${i}`));
  const bigBulk = `*2\r\n$3\r\nGET\r\n$${16 * 1024 + 1}\r\n`;
  for (const [name, input] of [
    ['multibulk count', manyArgs],
    ['bulk length', bigBulk],
  ] as const) {
    const want = await sendAndClose(o.port, input);
    t.equal(await sendAndClose(s.port, input), want, name);
  }
  const c = await rawConnect(s.port);
  t.teardown(() => c.end());
  t.match(await c.ask(resp('DEL', 'a'), replies(1)), /^-NOAUTH/);
  t.equal(await c.ask(resp('AUTH', 'pw'), replies(1)), '+OK\r\n');
  t.equal(await c.ask(manyArgs, replies(1)), ':0\r\n', 'limits lifted after AUTH');
  t.equal(await c.ask(resp('SET', 'big', Buffer.alloc(20000, 98)), replies(1)), '+OK\r\n');
});

t.test('maxclients rejects the connection over the limit', async (t) => {
  const s = await startTessera(['--maxclients', '2']);
  t.teardown(() => s.stop());
  const a = await rawConnect(s.port);
  const b = await rawConnect(s.port);
  t.equal(await a.ask(resp('PING'), replies(1)), '+PONG\r\n');
  t.equal(await b.ask(resp('PING'), replies(1)), '+PONG\r\n');
  const c = await rawConnect(s.port);
  await c.closed;
  t.equal(c.data().toString(), '-ERR max number of clients reached\r\n');
  t.equal(
    await a.ask(resp('INFO', 'stats'), replies(1)).then((i) => /rejected_connections:(\d+)/.exec(i)![1]),
    '1',
  );
  b.end();
  await b.closed;
  for (let i = 0; i < 50; i++) {
    const info = await a.ask(resp('INFO', 'clients'), replies(1));
    if (/connected_clients:1\r/.test(info)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const d = await rawConnect(s.port);
  t.equal(await d.ask(resp('PING'), replies(1)), '+PONG\r\n', 'a slot frees up after a client leaves');
  d.end();
  a.end();
});

t.test('a rejected client that sent a command does not block shutdown', async (t) => {
  const s = await startTessera(['--maxclients', '1']);
  const a = await rawConnect(s.port);
  t.equal(await a.ask(resp('PING'), replies(1)), '+PONG\r\n');
  const c = await rawConnect(s.port);
  t.equal(await c.ask(resp('PING'), replies(1)), '-ERR max number of clients reached\r\n');
  await c.closed;
  a.end();
  const exited = new Promise<number | null>((r) => s.proc.once('exit', (c) => r(c)));
  s.proc.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 2000))]);
  await s.stop('SIGKILL');
  t.equal(code, 0, 'exits 0 within 2 s of SIGTERM');
});

t.test('the daemon still answers after everything above', async (t) => {
  t.ok(await alive(tes));
  t.equal(tes.proc.exitCode, null, 'process still running');
});
