import t from 'tap';
import { mergeResults } from '../../bench/loadgen/pool.ts';
import { htmlReport } from '../../bench/report/html.ts';
import { markdownTable, terminalTable } from '../../bench/report/table.ts';
import { encode, newHistogram, percentiles, decode } from '../../bench/stats/histogram.ts';
import { aggregate, emptyCell, ratios, type Cell, type Report } from '../../bench/suite/results.ts';
import { parseWorkload } from '../../bench/workload/load.ts';

const get = parseWorkload(
  { name: 'get', description: 'reads <b>& writes</b>', mix: [{ command: 'GET', weight: 1 }] },
  'g',
);
const lists = parseWorkload(
  { name: 'lists', description: 'lists', mix: [{ command: 'LPUSH', weight: 1 }] },
  'l',
);

function okCell(target: string, rate: number, us: number, mismatches = 0): Cell {
  const c = emptyCell(target, 'ok');
  const h = newHistogram();
  for (let i = 0; i < 1000; i++) h.recordValue(us + (i % 50));
  const run = mergeResults(get, [
    {
      thread: 0,
      ops: [rate],
      errors: [0],
      unsupported: [0],
      mismatches,
      misses: 0,
      samples: mismatches ? ['GET tb:s:000000000001 → wrong reply "$3\\r\\nabc\\r\\n"'] : [],
      histogram: encode(h),
      service: null,
      windowMs: 1000,
      backlog: 0,
      unanswered: 0,
      startedLate: 0,
    },
  ]);
  c.reps.push({
    rep: 0,
    position: 0,
    opsPerSec: rate,
    latency: percentiles(decode(run.histogram)),
    cpuUsPerOp: 7.5,
    cpuCores: 0.9,
    clientCores: 0.8,
    run,
  });
  return aggregate(c);
}

function report(): Report {
  const g = [okCell('tessera', 90_000, 300, 2), okCell('redis', 100_000, 200)];
  const l = [
    { ...emptyCell('tessera', 'unsupported'), unsupportedCommands: ['LPUSH'] },
    okCell('redis', 120_000, 150),
  ];
  return {
    meta: {
      date: '2026-11-23T07:00:00.000Z',
      commit: 'abc1234',
      dirty: false,
      machine: { cores: 2, model: 'Test CPU', memoryGiB: 24, os: 'Linux 6', arch: 'x64' },
      node: 'v26.10.0',
      tessera: '0.1.0',
      redisServer: 'Redis server v=7.0.15',
      command: 'npm run bench',
    },
    settings: {
      suite: 'standard',
      quick: false,
      reps: 1,
      warmupMs: 1000,
      durationMs: 4000,
      threads: 2,
      seed: 1,
      baseline: 'redis',
    },
    targets: [
      {
        name: 'tessera',
        kind: 'tessera',
        version: '0.1.0',
        address: '127.0.0.1:1',
        owned: true,
        pidSource: 'started by the harness',
        persistence: 'none',
      },
      {
        name: 'redis',
        kind: 'redis',
        version: '7.0.15',
        address: '127.0.0.1:2',
        owned: true,
        pidSource: 'started by the harness',
        persistence: 'none',
      },
    ],
    workloads: [
      { workload: get, cells: g, ratios: ratios(g, 'redis') },
      { workload: lists, cells: l, ratios: ratios(l, 'redis') },
      {
        workload: { ...lists, name: 'broken' },
        cells: [emptyCell('tessera', 'failed', 'tessera exited (SIGSEGV)'), okCell('redis', 1, 1)],
        ratios: [],
      },
    ],
  };
}

t.test('terminal table: a column group per target, the ratio, and flags', async (t) => {
  const text = terminalTable(report());
  const lines = text.split('\n');
  t.match(lines[0], /tessera.*redis.*tessera\/redis/);
  t.match(lines[1], /workload\s+ops\/s\s+p50 ms\s+p99 ms\s+p99\.9 ms\s+CPU µs\/op/);
  const get = lines.find((l) => l.startsWith('get '))!;
  t.match(get, /90,000/);
  t.match(get, /100,000/);
  t.match(get, /0\.90/);
  t.match(get, /WRONG REPLIES ×2/);
  t.match(
    lines.find((l) => l.startsWith('lists'))!,
    /unsupported\s+by target.*120,000.*unsupported by target \(LPUSH\)/,
  );
  t.match(
    lines.find((l) => l.startsWith('broken'))!,
    /FAILED.*tessera exited \(SIGSEGV\)/,
  );
});

t.test('markdown table for README', async (t) => {
  const md = markdownTable(report());
  const rows = md.split('\n');
  t.equal(rows.length, 5);
  t.match(
    rows[0],
    /^\| workload \| tessera ops\/s \| tessera p50 \/ p99 \/ p99\.9 ms \| tessera CPU µs\/op \| redis ops\/s .* \| tessera\/redis \|$/,
  );
  t.match(rows[1], /^\| --- \| --: \|/);
  t.match(
    rows[2],
    /\| get \| 90,000 ⚠ WRONG REPLIES ×2 \| 0\.3\d\d \/ .* \| 7\.50 \| 100,000 \| .* \| 0\.90 \|/,
  );
  t.match(rows[3], /unsupported by target/);
  for (const r of rows) t.equal(r.split('|').length, rows[0]!.split('|').length, 'same column count');
});

t.test('HTML report is self-contained, escaped, with charts', async (t) => {
  const html = htmlReport(report());
  t.match(html, /^<!doctype html>/);
  t.notMatch(html, /<script/i, 'no scripts');
  t.notMatch(html, /(src|href)="https?:/i, 'nothing fetched from the network');
  t.ok((html.match(/<svg /g) ?? []).length >= 4, 'throughput, ratio and per-workload latency charts');
  t.match(html, /reads &#60;b&#62;&#38; writes&#60;\/b&#62;/, 'user text escaped');
  t.notMatch(html, /<b>& writes/);
  t.match(html, /unsupported by target/);
  t.match(html, /WRONG REPLIES ×2/);
  t.match(html, /Test CPU/);
  t.match(html, /abc1234/);
  t.match(html, /persistence/);
  t.match(html, /tessera exited \(SIGSEGV\)/);
  t.notMatch(html, /NaN|undefined/);
});
