/**
 * The metrics registry without a daemon: a stand-in server with two shards' stats blocks and a
 * CommandStats snapshot. Checks the exposition of the pre-counted latency histogram, the
 * heartbeat-derived figures, the /live verdict, and that the Grafana dashboard queries only
 * metric names the registry exposes.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandCounters } from '../../src/observability/command-stats.ts';
import { liveness } from '../../src/observability/http.ts';
import { createMetrics, durationBounds, shardLagMs } from '../../src/observability/metrics.ts';
import * as S from '../../src/router/shard-stats.ts';
import type { Server } from '../../src/server/server.ts';
import { ROOT } from '../helpers/server.ts';

const now = Date.now();
const blocks = [0, 1].map(() => new Float64Array(S.statsSlots(16)));
blocks[0]![S.ST_KEYS] = 7;
blocks[0]![S.ST_MEMORY] = 4096;
blocks[0]![S.ST_OPS] = 100;
blocks[0]![S.ST_EXPIRED] = 3;
blocks[0]![S.ST_HEARTBEAT] = now - 50;
blocks[1]![S.ST_KEYS] = 5;
blocks[1]![S.ST_EVICTED] = 42;
blocks[1]![S.ST_HELD] = 8192;
blocks[1]![S.ST_HEARTBEAT] = now - 1500; // a worker stuck for ~1.4 s

const setHist = new Float64Array(32);
setHist[0] = 2; // < 2 µs
setHist[3] = 5; // [8, 16) µs
setHist[31] = 1; // the open-ended last bucket
const snapshot = new Map<string, CommandCounters>([
  ['set', { calls: 9, usec: 70, failed: 1, rejected: 2, histogram: setHist }],
]);

const fake = {
  startedAt: now - 60_000,
  shards: { count: 2, stats: (i: number) => blocks[i]!, requestDepth: (i: number) => 64 * i },
  conns: { size: 3 },
  stats: { totalConnections: 10, rejectedConnections: 1, netInput: 500, netOutput: 700, protocolErrors: 0 },
  commandStats: { snapshot: () => snapshot },
  blocking: { blockedClients: 2 },
  pubsub: { channels: new Map([['a', 1]]), patterns: new Map(), shardChannels: new Map(), delivered: 17 },
  outputLimits: { disconnections: 0 },
} as unknown as Server;

const metrics = createMetrics(fake);
t.teardown(() => metrics.close());
const text = await metrics.render();

/** `name{labels} value` lines → value by "name{labels}" as written. */
function samples(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
const v = samples(text);

t.test('command metrics come from the CommandStats snapshot', async (t) => {
  t.equal(v.get('tessera_commands_total{cmd="set"}'), 9);
  t.equal(v.get('tessera_command_errors_total{cmd="set",kind="failed"}'), 1);
  t.equal(v.get('tessera_command_errors_total{cmd="set",kind="rejected"}'), 2);
  t.match(text, /# TYPE tessera_command_duration_seconds histogram/);
  const h = (le: string): number | undefined =>
    v.get(`tessera_command_duration_seconds_bucket{cmd="set",le="${le}"}`);
  t.equal(h('0.000002'), 2, 'bucket 0 is everything under 2 µs');
  t.equal(h('0.000008'), 2, 'cumulative: nothing in [2, 8) µs');
  t.equal(h('0.000016'), 7, '[8, 16) µs adds 5');
  t.equal(h(String(2 ** 31 / 1e6)), 7, 'last finite bound is 2^31 µs');
  t.equal(h('+Inf'), 8, 'the open-ended bucket only in +Inf');
  t.equal(v.get('tessera_command_duration_seconds_count{cmd="set"}'), 8);
  t.equal(v.get('tessera_command_duration_seconds_sum{cmd="set"}'), 70e-6);
  t.equal(durationBounds(32).length, 31);
  const json = await metrics.registry.getMetricsAsJSON();
  const hist = json.find((m) => m.name === 'tessera_command_duration_seconds')!;
  t.equal(hist.values.length, 31 + 3, 'JSON export carries the same series');
});

t.test('shard gauges and counters read the shared stats blocks', async (t) => {
  t.equal(v.get('tessera_shard_keys{shard="0"}'), 7);
  t.equal(v.get('tessera_shard_keys{shard="1"}'), 5);
  t.equal(v.get('tessera_shard_memory_bytes{shard="0"}'), 4096);
  t.equal(v.get('tessera_shard_ops_total{shard="0"}'), 100);
  t.equal(v.get('tessera_shard_expired_keys_total{shard="0"}'), 3);
  t.equal(v.get('tessera_shard_evicted_keys_total{shard="0"}'), 0);
  t.equal(v.get('tessera_shard_evicted_keys_total{shard="1"}'), 42);
  t.equal(v.get('tessera_shard_memory_held_bytes{shard="1"}'), 8192);
  t.equal(v.get('tessera_shard_request_ring_depth_bytes{shard="1"}'), 64);
  t.ok(v.get('tessera_shard_heartbeat_age_seconds{shard="1"}')! >= 1.5);
  const lag = v.get('tessera_event_loop_lag_seconds{thread="shard-1"}')!;
  t.ok(lag >= 1.4 && lag < 2, `shard-1 lag is its heartbeat age minus 100 ms (${lag})`);
  t.equal(v.get('tessera_event_loop_lag_seconds{thread="shard-0"}'), 0, 'a fresh heartbeat is no lag');
  t.ok(v.has('tessera_event_loop_lag_seconds{thread="main"}'));
  t.equal(shardLagMs(80), 0);
  t.equal(shardLagMs(350), 250);
});

t.test('clients, network and process metrics', async (t) => {
  t.equal(v.get('tessera_connected_clients'), 3);
  t.equal(v.get('tessera_connections_received_total'), 10);
  t.equal(v.get('tessera_connections_rejected_total'), 1);
  t.equal(v.get('tessera_net_input_bytes_total'), 500);
  t.equal(v.get('tessera_net_output_bytes_total'), 700);
  t.equal(v.get('tessera_blocked_clients'), 2);
  t.ok(v.has('tessera_process_resident_memory_bytes'), 'default metrics carry the prefix');
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    t.match(
      line,
      /^tessera_[a-z0-9_]+(\{[^}]*\})? \S+$/,
      `every sample is tessera_-prefixed: ${line.slice(0, 60)}`,
    );
  }
});

t.test('/live verdict', async (t) => {
  const ok = liveness(30, [90, 120], 2000);
  t.ok(ok.ok);
  t.same(ok.body.stalled, []);
  t.same(
    ok.body.threads.map((x) => x.thread),
    ['main', 'shard-0', 'shard-1'],
  );
  const bad = liveness(30, [90, 2500], 2000);
  t.notOk(bad.ok);
  t.equal(bad.body.status, 'stalled');
  t.same(bad.body.stalled, ['shard-1'], 'names the stalled shard');
  t.same(liveness(3000, [], 2000).body.stalled, ['main']);
});

t.test('the Grafana dashboard queries only metrics the registry exposes', async (t) => {
  // Names a query may use: every sample name, plus histogram series of TYPE lines whose
  // label sets have no samples yet (gc durations before the first GC).
  const exposed = new Set<string>();
  for (const key of v.keys()) exposed.add(key.replace(/\{.*$/, ''));
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exposed.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(m[1]! + s);
  }
  const dash = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/tessera-dashboard.json'), 'utf8'));
  const exprs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [k, val] of Object.entries(node)) {
        if ((k === 'expr' || k === 'definition') && typeof val === 'string') exprs.push(val);
        else walk(val);
      }
    }
  };
  walk(dash);
  t.ok(exprs.length >= 20, `dashboard has queries (${exprs.length})`);
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\btessera_[a-z0-9_]+/g)].map((m) => m[0])));
  for (const name of used) t.ok(exposed.has(name), `${name} is exposed`);
  for (const must of [
    'tessera_commands_total',
    'tessera_command_duration_seconds_bucket',
    'tessera_shard_keys',
  ]) {
    t.ok(used.has(must), `dashboard uses ${must}`);
  }
});
