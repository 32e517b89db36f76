/**
 * One end-to-end `npm run bench` against a real Tessera and a real redis-server, shrunk to a
 * few seconds (tiny keyspace, short windows, few connections). Asserts the reports exist and
 * the numbers are present, positive and mutually consistent — never a speed threshold.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/server.ts';
import type { Report } from '../../bench/suite/results.ts';
import { decode } from '../../bench/stats/histogram.ts';

const run = promisify(execFile);

t.test('npm run bench (shrunk) against Tessera and redis-server', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-e2e-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const args = [
    path.join(ROOT, 'bench/run.ts'),
    '--only',
    '^(get-set-90-10-32b|list-lpush-lpop|mset-mget-10|open-get-set-90-10-25k)$',
    '--reps',
    '2',
    '--warmup',
    '0.1',
    '--duration',
    '0.3',
    '--keys',
    '500',
    '--connections',
    '4',
    '--rate',
    '2000',
    '--threads',
    '1',
    '--out',
    out,
  ];
  const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 90_000 });

  const files = readdirSync(out).sort();
  t.equal(files.length, 3, `json, html, md written: ${files.join(', ')}`);
  for (const ext of ['.json', '.html', '.md'])
    t.ok(
      files.some((f) => f.endsWith(ext)),
      ext,
    );
  const report = JSON.parse(
    readFileSync(
      path.join(
        out,
        files.find((f) => f.endsWith('.json'))!,
      ),
      'utf8',
    ),
  ) as Report;
  const html = readFileSync(
    path.join(
      out,
      files.find((f) => f.endsWith('.html'))!,
    ),
    'utf8',
  );
  t.match(html, /<svg /);

  t.same(
    report.targets.map((x) => [x.name, x.kind, x.owned]),
    [
      ['tessera', 'tessera', true],
      ['redis', 'redis', true],
    ],
  );
  t.match(report.targets[0]!.persistence, /--appendonly no/);
  t.match(report.targets[1]!.persistence, /--save '' --appendonly no/);
  t.equal(report.settings.baseline, 'redis');
  t.ok(report.meta.machine.cores > 0 && report.meta.machine.memoryGiB > 0 && report.meta.machine.model);
  t.match(report.meta, { node: process.version, tessera: String, commit: String, date: String });
  t.match(report.meta.redisServer, /^Redis server v=/);

  const byName = new Map(report.workloads.map((w) => [w.workload.name, w]));
  t.equal(byName.size, 4);
  for (const [name, w] of byName) {
    for (const c of w.cells) {
      const label = `${name} on ${c.target}`;
      t.equal(c.status, 'ok', label);
      t.equal(c.reps.length, 2, `${label}: two repetitions`);
      t.equal(c.mismatches, 0, `${label}: every reply correct`);
      t.equal(c.errors, 0, `${label}: no error replies`);
      t.ok(c.opsPerSec > 0, `${label}: throughput ${c.opsPerSec}`);
      const totalOps = c.reps.reduce((s, r) => s + r.run.ops, 0);
      t.equal(c.latency.count, totalOps + c.backlog, `${label}: one latency sample per op`);
      t.equal(decode(c.histogram!).totalCount, c.latency.count);
      for (const r of c.reps) {
        t.ok(
          Math.abs(r.opsPerSec - (r.run.ops * 1000) / r.run.windowMs) < 1e-6,
          `${label}: ops/s = ops / window`,
        );
        t.ok(r.cpuUsPerOp !== null && r.cpuUsPerOp > 0, `${label}: server CPU per op ${r.cpuUsPerOp}`);
      }
      const l = c.latency;
      t.ok(
        0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
        `${label}: percentiles ordered`,
      );
      t.ok(c.curve.length > 2);
    }
    const r = w.ratios[0]!;
    t.match(r, { target: 'tessera', baseline: 'redis' }, `${name}: ratio`);
    t.ok(r.min <= r.median && r.median <= r.max && r.min > 0);
  }
  const open = byName.get('open-get-set-90-10-25k')!;
  for (const c of open.cells) {
    t.ok(c.opsPerSec > 1000 && c.opsPerSec < 3000, `open loop near its 2000/s rate: ${c.opsPerSec}`);
    t.ok(c.serviceLatency !== null);
  }

  t.match(stdout, /tessera\/redis/);
  t.notMatch(stdout, /unsupported/, 'every workload of the run is supported by both targets');
  t.match(stdout, /persistence: tessera none/);
  t.match(stderr, /rep 2\/2/, 'per-run progress lines on a non-TTY stderr');
});
