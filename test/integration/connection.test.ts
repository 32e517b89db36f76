/**
 * Connection commands (PING ECHO SELECT HELLO CLIENT QUIT RESET) and reply ordering, checked
 * at the protocol level against a real redis-server where the exact bytes matter.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis, startTessera } from '../helpers/server.ts';
import { rawConnect, replies, resp, splitReplies, type RawClient, type TT } from '../helpers/raw.ts';

const tes = await startTessera(['--shards', '2']);
const red = await startRedis();
t.teardown(async () => {
  await tes.stop();
  await red.stop();
});

/** A raw connection to Tessera and one to Redis; `same` sends one command to both and compares. */
async function pair(): Promise<{ tc: RawClient; rc: RawClient; close: () => void }> {
  const tc = await rawConnect(tes.port);
  const rc = await rawConnect(red.port);
  return { tc, rc, close: () => (tc.end(), rc.end()) };
}

async function same(tt: TT, p: { tc: RawClient; rc: RawClient }, ...args: string[]): Promise<string> {
  const want = await p.rc.ask(resp(...args), replies(1));
  const got = await p.tc.ask(resp(...args), replies(1));
  tt.equal(got, want, JSON.stringify(args.join(' ')));
  return got;
}

t.test('PING and ECHO', async (t) => {
  const p = await pair();
  t.teardown(p.close);
  t.equal(await p.tc.ask(resp('PING'), replies(1)), '+PONG\r\n');
  t.equal(await p.tc.ask(resp('PING', 'hi there'), replies(1)), '$8\r\nhi there\r\n');
  t.equal(await p.tc.ask('PING\r\n', replies(1)), '+PONG\r\n', 'inline PING');
  await same(t, p, 'PING', 'a', 'b');
  await same(t, p, 'ECHO', 'x\r\ny');
  await same(t, p, 'ECHO', '');
  await same(t, p, 'ECHO');
  await same(t, p, 'ping', '');
});

t.test('SELECT switches databases and rejects bad indexes like Redis', async (t) => {
  const p = await pair();
  t.teardown(p.close);
  for (const db of ['16', '-1', 'abc', '1.5', '99999999999999999999', '']) await same(t, p, 'SELECT', db);
  await same(t, p, 'SELECT', '15');
  await same(t, p, 'SELECT', '0');
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  await r.select(3);
  await r.set('seldb', 'three');
  await r.select(0);
  t.equal(await r.get('seldb'), null, 'db0 does not see db3 key');
  await r.select(3);
  t.equal(await r.get('seldb'), 'three');
  await r.del('seldb');
});

t.test('HELLO 3 switches to RESP3 and HELLO 2 back', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  const h3 = await c.ask(resp('HELLO', '3'), replies(1));
  t.ok(h3.startsWith('%7\r\n'), `HELLO 3 replies with a 7-entry map: ${JSON.stringify(h3)}`);
  t.match(h3, '$6\r\nserver\r\n$5\r\nredis\r\n');
  t.match(h3, '$5\r\nproto\r\n:3\r\n');
  t.match(h3, '$4\r\nmode\r\n$10\r\nstandalone\r\n');
  t.match(h3, '$7\r\nmodules\r\n*0\r\n');
  const id = /\$2\r\nid\r\n:(\d+)\r\n/.exec(h3);
  t.ok(id, 'HELLO reports the client id');
  t.equal(await c.ask(resp('CLIENT', 'ID'), replies(1)), `:${id![1]}\r\n`, 'HELLO id = CLIENT ID');
  t.equal(await c.ask(resp('GET', 'hello:missing'), replies(1)), '_\r\n', 'RESP3 null for a missing key');
  // A reply combined from two shards must also use RESP3 nulls.
  const keys = Array.from({ length: 8 }, (_, i) => `hello:miss:${i}`);
  const mget = await c.ask(resp('MGET', ...keys), replies(1));
  t.equal(mget, `*8\r\n${'_\r\n'.repeat(8)}`, 'multi-shard MGET uses RESP3 nulls');
  t.match(await c.ask(resp('CONFIG', 'GET', 'maxclients'), replies(1)), /^%1\r\n/, 'CONFIG GET is a map');

  const h2 = await c.ask(resp('HELLO', '2'), replies(1));
  t.ok(h2.startsWith('*14\r\n'), 'HELLO 2 replies with a flat 14-element array');
  t.match(h2, '$5\r\nproto\r\n:2\r\n');
  t.equal(await c.ask(resp('GET', 'hello:missing'), replies(1)), '$-1\r\n', 'RESP2 null again');

  const h = await c.ask(resp('HELLO'), replies(1));
  t.match(h, '$5\r\nproto\r\n:2\r\n', 'HELLO without version keeps the current protocol');
});

t.test('HELLO errors and SETNAME match Redis', async (t) => {
  const p = await pair();
  t.teardown(p.close);
  await same(t, p, 'HELLO', '4');
  await same(t, p, 'HELLO', '1');
  await same(t, p, 'HELLO', 'abc');
  await same(t, p, 'HELLO', '3', 'BOGUS');
  await same(t, p, 'HELLO', '2', 'SETNAME', 'bad name');
  // After failed HELLOs the connection is still RESP2.
  await same(t, p, 'GET', 'hello:missing');
  await p.tc.ask(resp('HELLO', '2', 'SETNAME', 'viahello'), replies(1));
  t.equal(await p.tc.ask(resp('CLIENT', 'GETNAME'), replies(1)), '$8\r\nviahello\r\n');
});

t.test('CLIENT ID / SETNAME / GETNAME / INFO / LIST', async (t) => {
  const p = await pair();
  t.teardown(p.close);
  const id = Number((await p.tc.ask(resp('CLIENT', 'ID'), replies(1))).slice(1, -2));
  t.ok(id > 0, 'positive id');
  await same(t, p, 'CLIENT', 'GETNAME');
  await same(t, p, 'CLIENT', 'SETNAME', 'worker-1');
  await same(t, p, 'CLIENT', 'GETNAME');
  await same(t, p, 'CLIENT', 'SETNAME', 'has space');
  await same(t, p, 'CLIENT', 'SETNAME', 'new\nline');
  await same(t, p, 'CLIENT', 'GETNAME');
  await same(t, p, 'CLIENT', 'NOSUCHSUB');
  await same(t, p, 'CLIENT', 'LIST', 'TYPE', 'bogus');
  await same(t, p, 'CLIENT', 'LIST', 'ID', 'abc');
  await same(t, p, 'CLIENT', 'LIST', 'TYPE', 'pubsub');

  const info = await p.tc.ask(resp('CLIENT', 'INFO'), replies(1));
  t.match(
    info,
    new RegExp(`^\\$\\d+\\r\\nid=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${tes.port} `),
  );
  t.match(info, / name=worker-1 /);
  t.match(info, / db=0 /);
  t.match(info, / cmd=client\|info /);
  t.match(info, / resp=2\n\r\n$/);

  const other = await rawConnect(tes.port);
  t.teardown(() => other.end());
  await other.ask(resp('CLIENT', 'SETNAME', 'other'), replies(1));
  await other.ask(resp('SELECT', '5'), replies(1));
  const list = await p.tc.ask(resp('CLIENT', 'LIST'), replies(1));
  const lines = list
    .split('\r\n')[1]!
    .split('\n')
    .filter((l) => l !== '');
  t.ok(lines.length >= 2, 'lists both connections');
  const otherLine = lines.find((l) => l.includes(' name=other '));
  t.ok(otherLine, 'other connection listed by name');
  t.match(otherLine!, / db=5 /);
  t.match(otherLine!, / cmd=select /);
  const otherId = /^id=(\d+)/.exec(otherLine!)![1]!;
  const only = await p.tc.ask(resp('CLIENT', 'LIST', 'ID', otherId), replies(1));
  t.equal(
    only
      .split('\r\n')[1]!
      .split('\n')
      .filter((l) => l !== '').length,
    1,
    'CLIENT LIST ID filters',
  );
  t.match(only, ' name=other ');
});

t.test('CLIENT KILL', async (t) => {
  const p = await pair();
  t.teardown(p.close);
  await same(t, p, 'CLIENT', 'KILL', 'ID', '999999');
  await same(t, p, 'CLIENT', 'KILL', '1.2.3.4:5');
  await same(t, p, 'CLIENT', 'KILL', 'ID', 'abc');
  await same(t, p, 'CLIENT', 'KILL', 'ID');
  await same(t, p, 'CLIENT', 'KILL', 'BOGUS', 'x');
  await same(t, p, 'CLIENT', 'KILL', 'USER', 'nobody');
  await same(t, p, 'CLIENT', 'KILL', 'TYPE', 'bogus');
  await same(t, p, 'CLIENT', 'KILL', 'TYPE', 'master');
  await same(t, p, 'CLIENT', 'KILL', 'SKIPME', 'maybe');
  await same(t, p, 'CLIENT', 'KILL', 'LADDR', '1.2.3.4:5');

  const victim = await rawConnect(tes.port);
  const vid = (await victim.ask(resp('CLIENT', 'ID'), replies(1))).slice(1, -2);
  t.equal(await p.tc.ask(resp('CLIENT', 'KILL', 'ID', vid), replies(1)), ':1\r\n');
  await victim.closed;
  t.pass('killed connection was closed');
  t.equal(await p.tc.ask(resp('CLIENT', 'KILL', 'ID', vid), replies(1)), ':0\r\n', 'already gone');

  // Old form: CLIENT KILL addr:port
  const v2 = await rawConnect(tes.port);
  // A round trip first: under load the server may not have accepted the socket yet when the
  // client side already sees it connected, and KILL would then find no such client.
  t.equal(await v2.ask(resp('PING'), replies(1)), '+PONG\r\n');
  const addr = `127.0.0.1:${v2.sock.localPort}`;
  t.equal(await p.tc.ask(resp('CLIENT', 'KILL', addr), replies(1)), '+OK\r\n');
  await v2.closed;
  t.pass('killed by address');

  // SKIPME yes (default) keeps the caller alive.
  const myId = (await p.tc.ask(resp('CLIENT', 'ID'), replies(1))).slice(1, -2);
  t.equal(await p.tc.ask(resp('CLIENT', 'KILL', 'ID', myId), replies(1)), ':0\r\n', 'SKIPME yes by default');
  t.equal(await p.tc.ask(resp('PING'), replies(1)), '+PONG\r\n', 'still alive');
  t.equal(await p.tc.ask(resp('CLIENT', 'KILL', 'ID', myId, 'SKIPME', 'no'), replies(1)), ':1\r\n');
  await p.tc.closed;
  t.pass('SKIPME no closes the caller after its reply');
});

t.test('QUIT replies OK and closes; later commands are not executed', async (t) => {
  const c = await rawConnect(tes.port);
  c.write(Buffer.concat([resp('QUIT'), resp('SET', 'quit:after', '1')]));
  await c.closed;
  t.equal(c.data().toString(), '+OK\r\n');
  // Shard replies still owed when QUIT arrives are delivered before the close.
  const d = await rawConnect(tes.port);
  const keys = Array.from({ length: 6 }, (_, i) => `quit:${i}`);
  d.write(
    Buffer.concat([
      resp('MSET', ...keys.flatMap((k) => [k, 'v'])),
      resp('MGET', ...keys),
      resp('QUIT'),
      resp('PING'),
    ]),
  );
  await d.closed;
  t.equal(d.data().toString(), `+OK\r\n*6\r\n${'$1\r\nv\r\n'.repeat(6)}+OK\r\n`);
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  t.equal(await r.exists('quit:after'), 0, 'command after QUIT did not run');
});

t.test('RESET restores connection defaults', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  await c.ask(resp('HELLO', '3', 'SETNAME', 'before-reset'), replies(1));
  await c.ask(resp('SELECT', '7'), replies(1));
  t.equal(await c.ask(resp('RESET'), replies(1)), '+RESET\r\n');
  t.equal(await c.ask(resp('CLIENT', 'GETNAME'), replies(1)), '$-1\r\n', 'name cleared and RESP2 again');
  const info = await c.ask(resp('CLIENT', 'INFO'), replies(1));
  t.match(info, / db=0 /);
  t.match(info, / resp=2/);
});

t.test('pipelined replies stay in request order across main thread and shards', async (t) => {
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  const cmds: Buffer[] = [];
  const want: string[] = [];
  const counters = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const key = `order:${Math.floor(i / 6) % 17}`;
    const ctr = `order:ctr:${Math.floor(i / 6) % 5}`;
    switch (i % 6) {
      case 0:
        cmds.push(resp('PING'));
        want.push('+PONG\r\n');
        break;
      case 1:
        cmds.push(resp('SET', key, `v${i}`));
        want.push('+OK\r\n');
        break;
      case 2:
        cmds.push(resp('ECHO', `e${i}`));
        want.push(`$${`e${i}`.length}\r\ne${i}\r\n`);
        break;
      case 3:
        cmds.push(resp('GET', key));
        // The key was set two commands earlier with v{i-2}.
        want.push(`$${`v${i - 2}`.length}\r\nv${i - 2}\r\n`);
        break;
      case 4: {
        const n = (counters.get(ctr) ?? 0) + 1;
        counters.set(ctr, n);
        cmds.push(resp('INCR', ctr));
        want.push(`:${n}\r\n`);
        break;
      }
      case 5:
        cmds.push(resp('EXISTS', key, ctr, 'order:none'));
        want.push(`:${1 + (counters.has(ctr) ? 1 : 0)}\r\n`);
        break;
    }
  }
  await c.ask(resp('DEL', ...Array.from({ length: 5 }, (_, i) => `order:ctr:${i}`)), replies(1));
  const got = splitReplies(
    Buffer.from(await c.ask(Buffer.concat(cmds), replies(cmds.length), 15000), 'latin1'),
  );
  t.equal(got.length, want.length);
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
  t.equal(bad, -1, bad >= 0 ? `first mismatch at ${bad}: ${got[bad]} vs ${want[bad]}` : 'all in order');
});
