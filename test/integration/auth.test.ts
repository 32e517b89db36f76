import os from 'node:os';
/**
 * requirepass / AUTH / HELLO AUTH behaviour, with every reply compared to a real redis-server
 * configured the same way.
 */
import t from 'tap';
import { startRedis, startTessera } from '../helpers/server.ts';
import { rawConnect, replies, resp, type RawClient, type TT } from '../helpers/raw.ts';

const PW = 'hunter2';
const tes = await startTessera(['--requirepass', PW, '--shards', '2']);
const red = await startRedis(['--requirepass', PW]);
t.teardown(async () => {
  await tes.stop();
  await red.stop();
});

const ask = (c: RawClient, args: string[]): Promise<string> => c.ask(resp(...args), replies(1));

/** Fresh connections to both servers; `same` runs a command on both and compares. */
async function pair(tt: TT, tport = tes.port, rport = red.port) {
  const tc = await rawConnect(tport);
  const rc = await rawConnect(rport);
  tt.teardown(() => (tc.end(), rc.end()));
  return {
    tc,
    rc,
    async same(...args: string[]): Promise<string> {
      const want = await ask(rc, args);
      const got = await ask(tc, args);
      tt.equal(got, want, args.join(' '));
      return got;
    },
  };
}

t.test('commands before AUTH get NOAUTH', async (t) => {
  const p = await pair(t);
  for (const c of [
    ['GET', 'k'],
    ['SET', 'k', 'v'],
    ['PING'],
    ['SELECT', '1'],
    ['CONFIG', 'GET', 'port'],
    ['INFO'],
    ['CLIENT', 'ID'],
    ['NOSUCHCMD'],
    ['GET'],
  ]) {
    await p.same(...c);
  }
  const r = await ask(p.tc, ['GET', 'k']);
  t.equal(r, '-NOAUTH Authentication required.\r\n');
});

t.test('AUTH wrong, AUTH right', async (t) => {
  const p = await pair(t);
  await p.same('AUTH', 'wrong');
  await p.same('AUTH', 'default', 'wrong');
  await p.same('AUTH', 'bob', PW);
  await p.same('AUTH', 'a', 'b', 'c');
  await p.same('AUTH');
  await p.same('GET', 'auth:k');
  t.equal(await p.same('AUTH', PW), '+OK\r\n');
  await p.same('SET', 'auth:k', 'v');
  await p.same('GET', 'auth:k');
  await p.same('AUTH', 'wrong');
  await p.same('GET', 'auth:k');
  await p.same('DEL', 'auth:k');
});

t.test('AUTH with a username', async (t) => {
  const p = await pair(t);
  t.equal(await p.same('AUTH', 'default', PW), '+OK\r\n');
  await p.same('PING');
});

t.test('HELLO with and without AUTH', async (t) => {
  const p = await pair(t);
  await p.same('HELLO', '3');
  await p.same('HELLO', '3', 'AUTH', 'default', 'wrong');
  await p.same('HELLO', '3', 'AUTH', 'default');
  await p.same('HELLO', '3', 'AUTH', 'nobody', PW);
  await p.same('GET', 'k');
  const ok = await ask(p.tc, ['HELLO', '3', 'AUTH', 'default', PW]);
  t.ok(ok.startsWith('%7\r\n'), 'HELLO 3 AUTH default <pw> replies with the RESP3 map');
  t.match(ok, '$5\r\nproto\r\n:3\r\n');
  t.equal(await ask(p.tc, ['GET', 'hello:missing']), '_\r\n', 'authenticated and in RESP3');
  const q = await pair(t);
  const h2 = await ask(q.tc, ['HELLO', '2', 'AUTH', 'default', PW, 'SETNAME', 'authed']);
  t.ok(h2.startsWith('*14\r\n'));
  t.equal(await ask(q.tc, ['CLIENT', 'GETNAME']), '$6\r\nauthed\r\n');
});

t.test('RESET drops authentication', async (t) => {
  const p = await pair(t);
  await p.same('AUTH', PW);
  await p.same('PING');
  await p.same('RESET');
  await p.same('PING');
  await p.same('QUIT');
});

t.test('QUIT is allowed before AUTH', async (t) => {
  const c = await rawConnect(tes.port);
  c.write(resp('QUIT'));
  await c.closed;
  t.equal(c.data().toString(), '+OK\r\n');
});

t.test('CONFIG SET requirepass at runtime', async (t) => {
  const admin = await rawConnect(tes.port);
  t.teardown(() => admin.end());
  await ask(admin, ['AUTH', PW]);
  t.equal(await ask(admin, ['CONFIG', 'SET', 'requirepass', 'other']), '+OK\r\n');
  t.equal(await ask(admin, ['PING']), '+PONG\r\n', 'an authenticated connection stays authenticated');
  const c = await rawConnect(tes.port);
  t.teardown(() => c.end());
  t.match(await ask(c, ['AUTH', PW]), /^-WRONGPASS/, 'old password rejected');
  t.equal(await ask(c, ['AUTH', 'other']), '+OK\r\n', 'new password accepted');
  t.equal(await ask(admin, ['CONFIG', 'SET', 'requirepass', '']), '+OK\r\n');
  const open = await rawConnect(tes.port);
  t.teardown(() => open.end());
  t.equal(await ask(open, ['PING']), '+PONG\r\n', 'no password: new connections need no AUTH');
  t.equal(await ask(admin, ['CONFIG', 'SET', 'requirepass', PW]), '+OK\r\n');
});

t.test('AUTH without a configured password', async (t) => {
  const s = await startTessera();
  const o = await startRedis();
  t.teardown(async () => {
    await s.stop();
    await o.stop();
  });
  const p = await pair(t, s.port, o.port);
  await p.same('AUTH', 'anything');
  await p.same('AUTH', 'default', 'anything');
  await p.same('AUTH', 'bob', 'x');
  await p.same('PING');
});

t.test('protected mode', async (t) => {
  const s = await startTessera();
  t.teardown(() => s.stop());
  const c = await rawConnect(s.port);
  t.teardown(() => c.end());
  t.equal(
    await ask(c, ['CONFIG', 'GET', 'protected-mode']),
    '*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n',
    'protected-mode defaults to yes',
  );
  t.equal(await ask(c, ['PING']), '+PONG\r\n', 'loopback clients are served without a password');
});

/** A non-loopback IPv4 address of this machine, to connect "from outside" without a network. */
function externalIPv4(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

t.test('protected mode refuses non-loopback clients when no password is set', async (t) => {
  const ip = externalIPv4();
  if (ip === undefined) {
    t.pass('non-loopback clients are refused', { skip: 'this machine has no non-loopback IPv4 address' });
    return;
  }
  const s = await startTessera(['--bind', '0.0.0.0']);
  t.teardown(() => s.stop());
  const outside = await rawConnect(s.port, ip);
  t.match(await outside.ask(resp('PING'), replies(1)), /^-DENIED Redis is running in protected mode/);
  await outside.closed;
  const local = await rawConnect(s.port);
  t.equal(await ask(local, ['PING']), '+PONG\r\n', 'loopback still served');
  local.end();
  // With a password set, outside clients are accepted (and must AUTH).
  const s2 = await startTessera(['--bind', '0.0.0.0', '--requirepass', 'pw']);
  t.teardown(() => s2.stop());
  const o2 = await rawConnect(s2.port, ip);
  t.match(await o2.ask(resp('PING'), replies(1)), /^-NOAUTH/);
  o2.end();
});
