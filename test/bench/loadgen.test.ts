/**
 * The load generator against an in-process fake server that can be made to lie, so the
 * checks a real server never trips are exercised: wrong values are counted as mismatches (not
 * throughput), unknown commands as unsupported, other errors as errors. Runs are tiny
 * (two connections, a fraction of a second) and call the thread entry directly, without piscina.
 */
import t from 'tap';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import run from '../../bench/loadgen/worker.ts';
import type { RunTask } from '../../bench/loadgen/task.ts';
import { decode } from '../../bench/stats/histogram.ts';
import { parseWorkload } from '../../bench/workload/load.ts';

type Mode = 'good' | 'wrong-value' | 'unknown' | 'error';

/** A minimal RESP server for GET/SET/INCR: keeps data in a Map and misbehaves on demand. */
function fakeServer(
  mode: Mode,
): Promise<{ port: number; close: () => Promise<void>; commands: () => number }> {
  const data = new Map<string, Buffer>();
  let commands = 0;
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const out: Buffer[] = [];
      for (;;) {
        const parsed = parseCommand(buf);
        if (!parsed) break;
        buf = buf.subarray(parsed.end);
        commands++;
        out.push(answer(parsed.args));
      }
      if (out.length) sock.write(Buffer.concat(out));
    });
  });
  const answer = (args: Buffer[]): Buffer => {
    const cmd = args[0]!.toString().toUpperCase();
    if (mode === 'unknown')
      return Buffer.from(`-ERR unknown command '${cmd}', with args beginning with: \r\n`);
    if (mode === 'error') return Buffer.from("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    if (cmd === 'SET') {
      data.set(args[1]!.toString(), args[2]!);
      return Buffer.from('+OK\r\n');
    }
    if (cmd === 'GET') {
      let v = data.get(args[1]!.toString());
      if (v && mode === 'wrong-value') {
        v = Buffer.from(v);
        v[v.length - 1] = v[v.length - 1]! ^ 1; // one corrupted byte
      }
      return v
        ? Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')])
        : Buffer.from('$-1\r\n');
    }
    return Buffer.from(`-ERR unknown command '${cmd}'\r\n`);
  };
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
        commands: () => commands,
      }),
    ),
  );
}

function parseCommand(b: Buffer): { args: Buffer[]; end: number } | null {
  if (b.length === 0) return null;
  let p = b.indexOf('\r\n');
  if (p < 0) return null;
  const n = Number(b.toString('latin1', 1, p));
  p += 2;
  const args: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const e = b.indexOf('\r\n', p);
    if (e < 0) return null;
    const len = Number(b.toString('latin1', p + 1, e));
    if (e + 2 + len + 2 > b.length) return null;
    args.push(b.subarray(e + 2, e + 2 + len));
    p = e + 2 + len + 2;
  }
  return { args, end: p };
}

const workload = parseWorkload(
  {
    name: 'fake',
    description: 'fake',
    keyspace: { keys: 200 },
    connections: 2,
    pipeline: 4,
    mix: [
      { command: 'GET', weight: 1 },
      { command: 'SET', weight: 1 },
    ],
  },
  'fake',
);

function task(port: number, phase: RunTask['phase'], over: Partial<RunTask> = {}): RunTask {
  return {
    host: '127.0.0.1',
    port,
    workload,
    phase,
    thread: 0,
    threads: 1,
    connections: 2,
    connOffset: 0,
    totalConnections: 2,
    startAt: performance.timeOrigin + performance.now() + 30,
    warmupMs: 50,
    durationMs: 250,
    seed: 1,
    progress: new SharedArrayBuffer(8),
    preloadFrom: 0,
    preloadTo: 200,
    ...over,
  };
}

t.test('preload then a closed-loop run against a correct server', async (t) => {
  const srv = await fakeServer('good');
  t.teardown(srv.close);
  const pre = await run(task(srv.port, 'preload'));
  t.equal(srv.commands(), 200, 'preload writes every key exactly once');
  t.equal(pre.mismatches + pre.errors.reduce((a, b) => a + b, 0), 0);
  const progress = new SharedArrayBuffer(8);
  const r = await run(task(srv.port, 'measure', { progress }));
  const ops = r.ops[0]! + r.ops[1]!;
  t.ok(r.ops[0]! > 0 && r.ops[1]! > 0, `GETs ${r.ops[0]} and SETs ${r.ops[1]} counted`);
  t.equal(r.mismatches, 0);
  t.equal(r.misses, 0, 'preloaded keys always hit');
  t.equal(decode(r.histogram).totalCount, ops, 'one latency sample per counted op');
  t.ok(new Float64Array(progress)[0]! >= ops, 'progress counter covers warmup + window');
  t.equal(r.unanswered, 0, 'drained');
  t.equal(r.windowMs, 250);
});

t.test('a fast-but-wrong server does not win: corrupted values are mismatches, not throughput', async (t) => {
  const srv = await fakeServer('wrong-value');
  t.teardown(srv.close);
  await run(task(srv.port, 'preload'));
  const r = await run(task(srv.port, 'measure'));
  t.ok(r.mismatches > 0, `${r.mismatches} mismatches`);
  t.ok(r.ops[1]! > 0, 'SETs (correct) still count');
  t.equal(r.ops[0], 0, 'no GET counted as throughput');
  t.match(r.samples[0], /^GET tb:s:\d{12} → wrong reply "\$32\\r\\n\d{12}:/);
});

t.test('unknown commands are unsupported, other errors are errors; neither is throughput', async (t) => {
  for (const mode of ['unknown', 'error'] as const) {
    const srv = await fakeServer(mode);
    const r = await run(task(srv.port, 'measure', { durationMs: 100 }));
    await srv.close();
    t.same(r.ops, [0, 0], `${mode}: no ops`);
    t.equal(decode(r.histogram).totalCount, 0);
    if (mode === 'unknown') t.ok(r.unsupported[0]! > 0 && r.errors[0] === 0);
    else {
      t.ok(r.errors[0]! > 0 && r.unsupported[0] === 0);
      t.match(r.samples[0], /OOM command not allowed/);
    }
  }
});

t.test('open loop sends at the requested rate and times from the intended send', async (t) => {
  const srv = await fakeServer('good');
  t.teardown(srv.close);
  const open = { ...workload, mode: 'open' as const, rate: 2000 };
  await run(task(srv.port, 'preload'));
  const r = await run(task(srv.port, 'measure', { workload: open, durationMs: 500 }));
  t.equal(r.mismatches, 0);
  const ops = r.ops[0]! + r.ops[1]!;
  // Loose bounds: tap runs test files in parallel on a small machine.
  t.ok(ops > 900 && ops < 1100, `~1000 requests in 0.5 s at 2000/s (got ${ops})`);
  t.ok(r.service !== null, 'service time recorded too');
  t.ok(decode(r.histogram).getValueAtPercentile(50) >= decode(r.service!).getValueAtPercentile(50));
  t.ok(r.backlog <= 10, `almost nothing held back (backlog ${r.backlog}, late start ${r.startedLate} ms)`);
});

t.test('a server that hangs up fails the run with a clear error', async (t) => {
  const server = net.createServer((s) => setTimeout(() => s.destroy(), 100));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  await t.rejects(run(task(port, 'measure', { durationMs: 2000 })), /closed by the server/);
});
