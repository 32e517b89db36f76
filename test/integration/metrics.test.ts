/**
 * The metrics and health endpoint of a real daemon: /metrics values move after commands,
 * /health /live /ready answer JSON with the right codes, /ready through startup and shutdown,
 * 404/405, and a metrics port that cannot be bound stops startup.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, freePort, startTessera } from '../helpers/server.ts';

interface Reply {
  status: number;
  type: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection; rejects when the connection is refused. */
function request(port: number, urlPath: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          type: res.headers['content-type'] ?? '',
          headers: res.headers,
          body,
        }),
      );
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Prometheus text → value by `name{labels}` as written. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('metrics and health endpoints of a running daemon', async (t) => {
  const srv = await startTessera(['--shards', '2']);
  t.teardown(() => srv.stop());
  t.ok(srv.metricsPort > 0);
  const scrape = async (): Promise<Map<string, number>> => {
    const r = await request(srv.metricsPort, '/metrics');
    t.equal(r.status, 200);
    t.match(r.type, /^text\/plain; version=0\.0\.4/);
    return parse(r.body);
  };
  const sum = (m: Map<string, number>, prefix: string): number => {
    let n = 0;
    for (const [k, val] of m) if (k.startsWith(prefix)) n += val;
    return n;
  };

  const before = await scrape();
  t.equal(sum(before, 'tessera_shard_keys{'), 0);
  t.ok(before.has('tessera_shard_keys{shard="1"}'), 'one series per shard');

  const r = new Redis({ port: srv.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  for (let i = 0; i < 20; i++) await r.set(`key:${i}`, 'v');
  await r.get('key:1');
  await r.call('get').catch(() => {}); // wrong arity: a rejected call
  await r.incr('key:2').catch(() => {}); // not an integer: a failed call

  // Shard blocks are republished at least every 100 ms.
  let after = await scrape();
  for (let i = 0; i < 50 && sum(after, 'tessera_shard_keys{') < 20; i++) {
    await sleep(50);
    after = await scrape();
  }
  t.equal(sum(after, 'tessera_shard_keys{'), 20, 'keys per shard add up');
  t.ok(after.get('tessera_shard_keys{shard="0"}')! > 0 && after.get('tessera_shard_keys{shard="1"}')! > 0);
  t.ok(sum(after, 'tessera_shard_memory_bytes{') > sum(before, 'tessera_shard_memory_bytes{'), 'memory grew');
  t.ok(sum(after, 'tessera_shard_ops_total{') >= 22, 'shard ops counted');
  t.equal(after.get('tessera_commands_total{cmd="set"}'), 20, 'SET calls');
  t.equal(after.get('tessera_commands_total{cmd="get"}'), 1, 'GET calls (the rejected one excluded)');
  t.equal(after.get('tessera_command_errors_total{cmd="get",kind="rejected"}'), 1);
  t.equal(after.get('tessera_command_errors_total{cmd="incr",kind="failed"}'), 1);
  t.equal(after.get('tessera_command_duration_seconds_count{cmd="set"}'), 20, 'SET latency histogram');
  t.equal(after.get('tessera_command_duration_seconds_bucket{cmd="set",le="+Inf"}'), 20);
  t.ok(after.get('tessera_command_duration_seconds_sum{cmd="set"}')! > 0);
  t.ok(after.get('tessera_connected_clients')! >= 1);
  t.ok(after.get('tessera_connections_received_total')! > before.get('tessera_connections_received_total')!);
  t.ok(after.get('tessera_net_input_bytes_total')! > before.get('tessera_net_input_bytes_total')!);
  t.ok(after.get('tessera_net_output_bytes_total')! > before.get('tessera_net_output_bytes_total')!);
  t.ok(after.has('tessera_event_loop_lag_seconds{thread="shard-1"}'));
  t.ok(after.has('tessera_process_resident_memory_bytes'));

  const health = await request(srv.metricsPort, '/health');
  t.equal(health.status, 200);
  t.match(health.type, /^application\/json/);
  t.same(JSON.parse(health.body), { status: 'ok' });

  const live = await request(srv.metricsPort, '/live');
  t.equal(live.status, 200, live.body);
  const lb = JSON.parse(live.body) as { status: string; threads: { thread: string; stalled: boolean }[] };
  t.equal(lb.status, 'ok');
  t.same(
    lb.threads.map((x) => x.thread),
    ['main', 'shard-0', 'shard-1'],
  );

  const ready = await request(srv.metricsPort, '/ready');
  t.equal(ready.status, 200);
  t.same(JSON.parse(ready.body), { status: 'ready' });

  const missing = await request(srv.metricsPort, '/nope');
  t.equal(missing.status, 404);
  t.match(missing.type, /^application\/json/);
  t.equal((await request(srv.metricsPort, '/constructor')).status, 404, 'no prototype lookups');
  const post = await request(srv.metricsPort, '/metrics', 'POST');
  t.equal(post.status, 405);
  t.equal(post.headers.allow, 'GET, HEAD');
  t.equal((await request(srv.metricsPort, '/ready', 'DELETE')).status, 405);
  const head = await request(srv.metricsPort, '/health', 'HEAD');
  t.equal(head.status, 200);
  t.equal(head.body, '');
});

t.test('/ready through startup and shutdown', async (t) => {
  const port = await freePort();
  const metricsPort = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = spawn(
    process.execPath,
    [
      path.join(ROOT, 'src/main.ts'),
      ...['--port', String(port), '--metrics-port', String(metricsPort), '--dir', dir, '--shards', '1'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d));
  p.stderr.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  t.teardown(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  // Startup: refused or 503 until ready, then 200 — and ready means clients are accepted.
  const seen = new Set<string>();
  const deadline = Date.now() + 20000;
  for (;;) {
    if (Date.now() > deadline) return void t.fail(`not ready in 20 s:\n${out}`);
    const r = await request(metricsPort, '/ready').catch(() => null);
    seen.add(r === null ? 'refused' : `${r.status} ${r.body.trim()}`);
    if (r?.status === 200) break;
    await sleep(20);
  }
  // There is no loading phase yet, so "starting" is rarely caught; refused is the usual answer.
  t.match(
    [...seen].join(', '),
    /^((refused|503 {"status":"starting"}), )*200 {"status":"ready"}$/,
    'startup',
  );
  const c = new Redis({ port, lazyConnect: true });
  await c.connect();
  t.equal(await c.ping(), 'PONG', 'accepting clients once /ready is 200');
  c.disconnect();

  // Shutdown: once the daemon has taken SIGTERM (a request racing the signal may still see 200),
  // /ready answers 503 until the listener closes, and never 200 again.
  p.kill('SIGTERM');
  const codes: string[] = [];
  const stopBy = Date.now() + 15000;
  while (Date.now() < stopBy) {
    const r = await request(metricsPort, '/ready').catch(() => null);
    const code = r === null ? 'refused' : `${r.status} ${r.body.trim()}`;
    if (codes.at(-1) !== code) codes.push(code);
    if (r === null) break;
    await sleep(5);
  }
  t.match(codes.join(', '), /^(200 [^,]*, )?(503 {"status":"shutting down"}, )?refused$/, 'shutdown');
  t.equal(await exited, 0, 'clean exit');
  t.rejects(request(metricsPort, '/ready'), 'listener closed after exit');
});

t.test('a metrics port that cannot be bound stops startup', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const taken = (blocker.address() as net.AddressInfo).port;
  await t.rejects(
    startTessera(['--metrics-port', String(taken)]),
    /exited with 1 before ready[\s\S]*cannot listen on 127\.0\.0\.1:\d+ \(metrics-port\)/,
  );
});
