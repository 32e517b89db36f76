import net from 'node:net';
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';

t.test('MONITOR streams every command with Redis formatting, hides AUTH', async (t) => {
  const srv = await startTessera(['--shards', '2']);
  t.teardown(() => srv.stop());
  const mon = net.connect(srv.port, '127.0.0.1');
  t.teardown(() => mon.destroy());
  let seen = '';
  mon.on('data', (d: Buffer) => (seen += d.toString('latin1')));
  mon.write('MONITOR\r\n');
  while (!seen.startsWith('+OK\r\n')) await new Promise((r) => setTimeout(r, 10));
  const r = new Redis({ port: srv.port });
  t.teardown(() => r.disconnect());
  await r.call('AUTH', 'default', 'whatever').catch(() => {});
  await r.set('k 1', 'line\nbreak "q" \x01');
  await r.select(3);
  await r.get('other');
  const until = Date.now() + 2000;
  while (!seen.includes('"GET"') && !seen.includes('"get"') && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 10));
  }
  const lines = seen.split('\r\n').filter((l) => l.startsWith('+') && l !== '+OK');
  t.match(
    lines.join('\n'),
    /^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "(set|SET)" "k 1" "line\\nbreak \\"q\\" \\x01"$/m,
  );
  t.match(lines.join('\n'), /\[3 127\.0\.0\.1:\d+\] "(get|GET)" "other"/, 'db shown after SELECT');
  t.notOk(/auth/i.test(lines.join('\n')), 'AUTH is not shown');
});

t.test('CLIENT PAUSE semantics', async (t) => {
  const srv = await startTessera();
  t.teardown(() => srv.stop());
  const admin = new Redis({ port: srv.port });
  const writer = new Redis({ port: srv.port });
  const reader = new Redis({ port: srv.port });
  t.teardown(() => (admin.disconnect(), writer.disconnect(), reader.disconnect()));
  await writer.set('x', '0');
  t.equal(await admin.call('CLIENT', 'PAUSE', '5000', 'WRITE'), 'OK');
  let done = false;
  const write = writer.set('x', '1').then(() => (done = true));
  t.equal(await reader.get('x'), '0', 'reads are served during a WRITE pause');
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(done, 'the write is held');
  t.equal(await admin.call('CLIENT', 'UNPAUSE'), 'OK');
  await write;
  t.equal(await reader.get('x'), '1', 'the held write ran after UNPAUSE');

  t.equal(await admin.call('CLIENT', 'PAUSE', '300'), 'OK', 'ALL is the default mode');
  const started = Date.now();
  t.equal(await reader.get('x'), '1');
  t.ok(Date.now() - started >= 250, `reads wait for the pause to expire (${Date.now() - started} ms)`);
  await t.rejects(admin.call('CLIENT', 'PAUSE', '-1'), /timeout is not an integer or out of range/);
  await t.rejects(admin.call('CLIENT', 'PAUSE', '10', 'SOMETIMES'), /syntax error/);
});
