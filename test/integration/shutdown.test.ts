/**
 * Shutdown drain: SIGTERM / SHUTDOWN stop accepting, let the commands already dispatched finish
 * (their replies are written, whole and in order), close the clients, and exit 0 — within
 * shutdown-timeout even when a client never reads.
 */
import t from 'tap';
import net from 'node:net';
import { startTessera, type Proc } from '../helpers/server.ts';
import { rawConnect, replies, resp } from '../helpers/raw.ts';

const exitOf = (s: Proc): Promise<number | null> =>
  new Promise((res) => {
    if (s.proc.exitCode !== null) return res(s.proc.exitCode);
    s.proc.once('exit', (code) => res(code));
  });

function drainLine(s: Proc, msg: RegExp): Record<string, unknown> {
  const line = s
    .output()
    .split('\n')
    .find((l) => msg.test(l));
  return line === undefined ? {} : (JSON.parse(line) as Record<string, unknown>);
}

t.test('SIGTERM: in-flight commands are answered before the connection closes', async (t) => {
  const s = await startTessera(['--loglevel', 'notice']);
  const c = await rawConnect(s.port);
  const idle = await rawConnect(s.port);
  const N = 100_000;
  // Signal as soon as the first reply arrives: the daemon is then mid-pipeline.
  void c.until((b) => b.length > 0, 10_000).then(() => s.proc.kill('SIGTERM'));
  c.write(resp('INCR', 'n').toString().repeat(N));
  await c.closed;
  await idle.closed;
  t.equal(await exitOf(s), 0, 'exit code 0');
  const text = c.data().toString('latin1');
  t.ok(text.endsWith('\r\n'), 'no reply cut in half');
  const got = text.split('\r\n').filter((l) => l !== '');
  t.ok(got.length > 0, `${got.length} replies`);
  t.ok(
    got.every((l, i) => l === `:${i + 1}`),
    'replies are whole, in order, none missing',
  );
  const drain = drainLine(s, /closed client connections/);
  t.equal(drain.clients, 2, 'logs the clients it had');
  t.equal(drain.unanswered, 0, 'nothing in flight left unanswered');
  t.equal(drain.answered, drain.inFlight, 'every in-flight command answered');
  t.ok((drain.inFlight as number) <= got.length, 'in-flight count is plausible');
  t.match(s.output(), /shutting down: draining clients/);
  await s.stop();
});

t.test('SHUTDOWN: earlier pipelined replies arrive, then the connection closes', async (t) => {
  const s = await startTessera();
  const c = await rawConnect(s.port);
  c.write(Buffer.concat([resp('SET', 'a', '1'), resp('INCR', 'b'), resp('SHUTDOWN')]));
  await c.closed;
  t.equal(c.data().toString(), '+OK\r\n:1\r\n', 'replies before SHUTDOWN, none for it');
  t.equal(await exitOf(s), 0);
  // The listener is gone: nothing accepts any more.
  const err = await new Promise<string>((res) => {
    const sock = net.connect(s.port, '127.0.0.1');
    sock.once('connect', () => res('connected'));
    sock.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? 'error'));
  });
  t.equal(err, 'ECONNREFUSED', 'no longer accepting');
  await s.stop();
});

t.test('a client that never reads cannot hold shutdown past shutdown-timeout', async (t) => {
  const s = await startTessera(['--shutdown-timeout', '1']);
  const c = await rawConnect(s.port);
  t.equal(await c.ask(resp('CONFIG', 'SET', 'shutdown-timeout', '2'), replies(1)), '+OK\r\n', 'mutable');
  t.equal(await c.ask(resp('CONFIG', 'SET', 'shutdown-timeout', '1'), replies(1)), '+OK\r\n');
  const big = Buffer.alloc(4 << 20, 120);
  t.equal(await c.ask(resp('SET', 'big', big), replies(1)), '+OK\r\n');
  c.sock.pause(); // never read again: the server's socket backs up
  c.write(resp('GET', 'big').toString().repeat(100));
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  const code = await exitOf(s);
  const ms = Date.now() - t0;
  t.equal(code, 0, 'exit code 0 after the timeout');
  t.ok(ms >= 900 && ms < 4000, `stopped after the 1 s drain timeout (${ms} ms)`);
  t.match(s.output(), /shutdown drain timed out; closed the clients left/);
  t.equal(drainLine(s, /drain timed out/).cutOff, 1, 'one client cut off');
  c.end();
  await s.stop();
});
