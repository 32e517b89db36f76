/**
 * The latency monitor's sample blocks: Redis's one-sample-per-second ring with max collapse,
 * the threshold gate, merging shards' blocks on main, RESET, and the DOCTOR report text.
 */
import t from 'tap';
import { latencyReport } from '../../src/commands/latency.ts';
import {
  addLatencySample,
  EV_COMMAND,
  EV_EXPIRE_CYCLE,
  EV_FAST_COMMAND,
  LATENCY_TS_LEN,
  latencyBlockBytes,
  LatencyMonitor,
  sampleCommandLatency,
  sampleLatency,
} from '../../src/observability/latency-monitor.ts';
import { commandByName } from '../../src/commands/table.ts';

const block = (): Float64Array => new Float64Array(new SharedArrayBuffer(latencyBlockBytes()));

t.test('samples in the same second collapse keeping the max; the ring keeps 160 seconds', async (t) => {
  const shard = block();
  const mon = new LatencyMonitor([shard], 10);
  addLatencySample(shard, EV_COMMAND, 20, 1000);
  addLatencySample(shard, EV_COMMAND, 50, 1000);
  addLatencySample(shard, EV_COMMAND, 30, 1000);
  addLatencySample(shard, EV_COMMAND, 15, 1001);
  let s = mon.series(EV_COMMAND)!;
  t.same(s.samples, [
    [1000, 50],
    [1001, 15],
  ]);
  t.equal(s.latestTime, 1001);
  t.equal(s.latestMs, 15);
  t.equal(s.max, 50);
  for (let i = 0; i < 200; i++) addLatencySample(shard, EV_COMMAND, 11 + (i % 7), 2000 + i);
  s = mon.series(EV_COMMAND)!;
  t.equal(s.samples.length, LATENCY_TS_LEN, 'ring holds 160 samples');
  t.same(s.samples[0]![0], 2040, 'oldest kept');
  t.same(s.samples.at(-1)![0], 2199, 'newest');
  t.equal(s.max, 50, 'all-time max survives the ring');
  t.equal(mon.series(EV_EXPIRE_CYCLE), null, 'other events untouched');
});

t.test('threshold gates sampling; fast commands are their own event', async (t) => {
  const shard = block();
  const mon = new LatencyMonitor([shard], 0);
  const set = commandByName('set')!.index; // not flagged fast in Redis
  const get = commandByName('get')!.index; // GET is fast
  sampleCommandLatency(shard, set, 500_000);
  sampleLatency(shard, EV_EXPIRE_CYCLE, 500);
  t.same(mon.all(), [], 'threshold 0 records nothing');
  mon.setThreshold(100);
  sampleCommandLatency(shard, set, 99_999);
  t.same(mon.all(), [], 'below the threshold');
  sampleCommandLatency(shard, set, 100_000);
  sampleCommandLatency(shard, get, 250_700);
  sampleLatency(shard, EV_EXPIRE_CYCLE, 120.9);
  const all = Object.fromEntries(mon.all().map(([n, s]) => [n, s.latestMs]));
  t.same(all, { command: 100, 'fast-command': 250, 'expire-cycle': 120 });
  t.ok(mon.series(EV_FAST_COMMAND));
});

t.test('main merges blocks per second and RESET clears every block', async (t) => {
  const a = block();
  const b = block();
  const mon = new LatencyMonitor([a, b], 5);
  addLatencySample(a, EV_COMMAND, 10, 100);
  addLatencySample(b, EV_COMMAND, 40, 100);
  addLatencySample(b, EV_COMMAND, 7, 103);
  addLatencySample(mon.local, EV_COMMAND, 9, 101);
  addLatencySample(a, EV_EXPIRE_CYCLE, 6, 102);
  const s = mon.series(EV_COMMAND)!;
  t.same(s.samples, [
    [100, 40],
    [101, 9],
    [103, 7],
  ]);
  t.equal(s.max, 40);
  t.same(
    mon.all().map(([n]) => n),
    ['command', 'expire-cycle'],
  );
  t.equal(mon.reset(['command', 'command', 'nosuch']), 1, 'counts events that existed');
  t.equal(mon.series(EV_COMMAND), null);
  t.equal(mon.reset(), 1, 'reset all: one event left');
  t.same(mon.all(), []);
  t.equal(a[0], 5, 'threshold kept');
});

t.test('LATENCY DOCTOR report', async (t) => {
  t.match(latencyReport([], 0, 0), /^I'm sorry, Dave, I can't do that\. Latency monitoring is disabled/);
  t.match(latencyReport([], 100, 0), /^Dave, no latency spike was observed/);
  const text = latencyReport(
    [
      [
        'command',
        {
          latestTime: 110,
          latestMs: 300,
          max: 300,
          samples: [
            [100, 100],
            [110, 300],
          ],
        },
      ],
    ],
    100,
    120,
  );
  t.match(text, /^Dave, I have observed latency spikes/);
  t.match(
    text,
    '1. command: 2 latency spikes (average 200ms, mean deviation 100ms, period 10.00 sec). Worst all time event 300ms.\n',
  );
  t.match(text, /I have a few advices for you:\n\n- Check your Slow Log/);
  t.ok(text.endsWith('\n'));
});
