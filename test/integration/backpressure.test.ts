import net from 'node:net';
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';

/** Counts complete RESP simple/integer/bulk replies in a byte stream (enough for SET/GET/PING). */
function replyCounter(): { feed(b: Buffer): void; count(): number } {
  let pending: Buffer = Buffer.alloc(0);
  let n = 0;
  return {
    feed(b: Buffer): void {
      pending = pending.length ? Buffer.concat([pending, b]) : b;
      let p = 0;
      for (;;) {
        const eol = pending.indexOf('\r\n', p);
        if (eol < 0) break;
        if (pending[p] === 36) {
          const len = Number(pending.toString('latin1', p + 1, eol));
          const end = len < 0 ? eol + 2 : eol + 2 + len + 2;
          if (end > pending.length) break;
          p = end;
        } else p = eol + 2;
        n++;
      }
      pending = pending.subarray(p);
    },
    count: () => n,
  };
}

t.test('a pipeline far bigger than the ring pauses reads and loses nothing', async (t) => {
  // 64 KiB rings: 20k SETs of 1 KiB (20 MB) cannot fit, so the main thread must stop reading,
  // let the shard drain, and resume — every command must still get its reply, in order.
  const srv = await startTessera(['--ring-size', '65536', '--shards', '2']);
  t.teardown(() => srv.stop());
  const value = 'v'.repeat(1024);
  const parts: string[] = [];
  const N = 20000;
  for (let i = 0; i < N; i++)
    parts.push(`*3\r\n$3\r\nSET\r\n$${String(i).length + 2}\r\nk:${i}\r\n$1024\r\n${value}\r\n`);
  parts.push('*1\r\n$6\r\nDBSIZE\r\n');
  const sock = net.connect(srv.port, '127.0.0.1');
  const counter = replyCounter();
  let tail = '';
  const done = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      counter.feed(d);
      tail = (tail + d.toString('latin1')).slice(-64);
      if (counter.count() === N + 1) resolve();
    });
  });
  sock.write(parts.join(''));
  await done;
  sock.destroy();
  t.match(tail, /:20000\r\n$/, 'DBSIZE after the pipeline counts every key');
  const r = new Redis({ port: srv.port });
  t.teardown(() => r.disconnect());
  t.equal(await r.get('k:19999'), value);
  t.equal(await r.strlen('k:0'), 1024);
});

t.test('a client that never reads does not stop the server or other clients', async (t) => {
  const srv = await startTessera();
  t.teardown(() => srv.stop());
  const r = new Redis({ port: srv.port });
  t.teardown(() => r.disconnect());
  await r.set('big', Buffer.alloc(1024 * 1024, 120));
  // Ask for ~200 MB of replies and never read them.
  const hog = net.connect(srv.port, '127.0.0.1');
  hog.pause();
  await new Promise<void>((resolve) => hog.once('connect', () => resolve()));
  hog.write('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(200));
  await new Promise((r2) => setTimeout(r2, 500));
  const started = Date.now();
  t.equal(await r.ping(), 'PONG', 'other clients are still served');
  t.ok(Date.now() - started < 2000, 'promptly');
  t.equal(await r.strlen('big'), 1024 * 1024);
  hog.destroy();
});
