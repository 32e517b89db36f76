import t from 'tap';
import { mergeResults } from '../../bench/loadgen/pool.ts';
import type { RunResult } from '../../bench/loadgen/task.ts';
import { curve, decode, encode, merge, newHistogram, percentiles } from '../../bench/stats/histogram.ts';
import { aggregate, emptyCell, median, ratios, type Cell } from '../../bench/suite/results.ts';
import { parseWorkload } from '../../bench/workload/load.ts';

t.test('percentiles in ms from µs recordings, 3 significant digits', async (t) => {
  const h = newHistogram();
  for (let us = 1; us <= 10_000; us++) h.recordValue(us);
  const p = percentiles(h);
  t.equal(p.count, 10_000);
  t.ok(Math.abs(p.p50 - 5) / 5 < 0.002, `p50 ${p.p50}`);
  t.ok(Math.abs(p.p90 - 9) / 9 < 0.002, `p90 ${p.p90}`);
  t.ok(Math.abs(p.p99 - 9.9) / 9.9 < 0.002, `p99 ${p.p99}`);
  t.ok(Math.abs(p.p999 - 9.99) / 9.99 < 0.002, `p99.9 ${p.p999}`);
  t.ok(Math.abs(p.max - 10) / 10 < 0.002);
  t.same(percentiles(newHistogram()), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  // Far beyond the configured range (a stalled server): recorded, not thrown.
  const big = newHistogram();
  big.recordValue(120_000_000);
  t.ok(percentiles(big).max >= 119_000);
});

t.test('per-thread histograms merge through their encoded form', async (t) => {
  const a = newHistogram();
  const b = newHistogram();
  for (let i = 0; i < 900; i++) a.recordValue(100); // fast thread
  for (let i = 0; i < 100; i++) b.recordValue(10_000); // a slow thread owns the tail
  const m = merge([encode(a), encode(b)]);
  t.equal(m.totalCount, 1000);
  const p = percentiles(m);
  t.ok(Math.abs(p.p50 - 0.1) < 0.001);
  t.ok(Math.abs(p.p90 - 0.1) < 0.001, 'exactly 90% are fast');
  t.ok(Math.abs(p.p99 - 10) < 0.02, 'the tail comes from the other thread');
  t.equal(decode(encode(m)).totalCount, 1000, 'round trip');
  const c = curve(m);
  t.ok(c.length > 10);
  t.equal(c[0]!.percentile, 0);
  t.equal(c.at(-1)!.percentile, 100);
  for (let i = 1; i < c.length; i++) {
    if (c[i]!.ms < c[i - 1]!.ms || c[i]!.x <= c[i - 1]!.x) t.fail(`curve not monotone at ${i}`);
  }
});

const wl = parseWorkload(
  {
    name: 'w',
    description: 'd',
    mix: [
      { command: 'GET', weight: 3 },
      { command: 'SET', weight: 1 },
    ],
  },
  'w',
);

function fakeThread(thread: number, getOps: number, setOps: number, us: number): RunResult {
  const h = newHistogram();
  for (let i = 0; i < getOps + setOps; i++) h.recordValue(us);
  return {
    thread,
    ops: [getOps, setOps],
    errors: [0, 1],
    unsupported: [0, 0],
    mismatches: thread,
    misses: 2,
    samples: thread ? [`sample ${thread}`] : [],
    histogram: encode(h),
    service: null,
    windowMs: 1000,
    backlog: 0,
    unanswered: 0,
    startedLate: thread * 3,
  };
}

t.test('thread results merge: counters add up, histograms combine', async (t) => {
  const m = mergeResults(wl, [fakeThread(0, 300, 100, 50), fakeThread(1, 30, 10, 5000)]);
  t.equal(m.ops, 440);
  t.same(m.perCommand, [
    { command: 'GET', ops: 330, errors: 0, unsupported: 0 },
    { command: 'SET', ops: 110, errors: 2, unsupported: 0 },
  ]);
  t.equal(m.errors, 2);
  t.equal(m.mismatches, 1);
  t.equal(m.misses, 4);
  t.same(m.samples, ['sample 1']);
  t.equal(decode(m.histogram).totalCount, 440);
  t.equal(m.startedLate, 3);
});

t.test('repetitions aggregate: median throughput, merged latency, paired ratios', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 2, 3]), 2.5);
  const cell = (name: string, rates: number[], us: number): Cell => {
    const c = emptyCell(name, 'ok');
    rates.forEach((r, rep) => {
      const run = mergeResults(wl, [fakeThread(0, r * 0.75, r * 0.25, us)]);
      c.reps.push({
        rep,
        position: rep % 2,
        opsPerSec: r,
        latency: percentiles(decode(run.histogram)),
        cpuUsPerOp: 10 + rep,
        cpuCores: 0.5,
        clientCores: 0.8,
        run,
      });
    });
    return aggregate(c);
  };
  const a = cell('tessera', [800, 1000, 900], 200);
  const b = cell('redis', [1000, 1000, 1000], 100);
  t.equal(a.opsPerSec, 900);
  t.equal(a.cpuUsPerOp, 11);
  t.equal(a.latency.count, 2700);
  t.ok(Math.abs(a.latency.p50 - 0.2) < 0.001);
  t.equal(decode(a.histogram!).totalCount, 2700);
  const r = ratios([a, b], 'redis');
  t.same(r, [{ target: 'tessera', baseline: 'redis', median: 0.9, min: 0.8, max: 1 }]);
  t.same(ratios([a, emptyCell('redis', 'unsupported')], 'redis'), [], 'no ratio against a missing baseline');
  t.same(ratios([a, b], null), []);
});
