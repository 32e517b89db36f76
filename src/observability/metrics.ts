/**
 * Prometheus metrics for GET /metrics (prom-client, a registry of our own rather than the
 * global one). Every value is read at scrape time in a collect() callback: command figures from
 * CommandStats, shard figures from the shared stats blocks the workers publish (at most ~100 ms
 * old), so a scrape sends no message to any worker and adds nothing to the command path.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import * as S from '../router/shard-stats.ts';
import type { Server } from '../server/server.ts';
import { REDIS_VERSION, TESSERA_VERSION } from '../version.ts';
import type { CommandCounters } from './command-stats.ts';

export const PREFIX = 'tessera_';

/**
 * A worker publishes its stats block (and with it ST_HEARTBEAT, its loop time in ms) at least
 * every 100 ms while its loop runs: it sleeps at most 100 ms and publishes after every idle
 * turn, or every 100 ms while busy (workers/shard.ts).
 */
export const SHARD_PUBLISH_INTERVAL_MS = 100;

/** Resolution of the main thread's event-loop delay monitor (also its idle reading). */
const LOOP_RESOLUTION_MS = 10;

/**
 * How long ago shard i last published its stats block, in ms. Before its first publication the
 * age counts from server start, so a worker that never comes up shows as stalled.
 */
export function heartbeatAgeMs(srv: Server, i: number, now = Date.now()): number {
  const hb = srv.shards.stats(i)[S.ST_HEARTBEAT]!;
  return Math.max(0, now - (hb > 0 ? hb : srv.startedAt));
}

/** Estimated event-loop stall of shard i in ms: heartbeat age beyond the publish interval. */
export function shardLagMs(ageMs: number): number {
  return Math.max(0, ageMs - SHARD_PUBLISH_INTERVAL_MS);
}

/**
 * Upper bounds (seconds) of the command-duration buckets: CommandStats bucket k counts
 * executions in [2^k, 2^(k+1)) µs (bucket 0 everything below 2 µs), and the last bucket also
 * takes everything longer, so it maps to +Inf only.
 */
export function durationBounds(buckets: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < buckets - 1; k++) out.push(2 ** (k + 1) / 1e6);
  return out;
}

type HistogramData = Awaited<ReturnType<Histogram['get']>>;

/**
 * A histogram whose buckets are already counted elsewhere (CommandStats), exported as-is:
 * prom-client has no API to set bucket counts, so this overrides the two methods the registry
 * reads (get for JSON, getForPromString for the text format). test/unit/metrics.test.ts checks
 * the exposition, so a prom-client change that bypasses them fails there.
 */
class CommandDurationHistogram extends Histogram<'cmd'> {
  private readonly metricName: string;
  private readonly metricHelp: string;
  private readonly read: () => Map<string, CommandCounters>;

  constructor(name: string, help: string, registry: Registry, read: () => Map<string, CommandCounters>) {
    super({ name, help, labelNames: ['cmd'], buckets: [1], registers: [] });
    this.metricName = name;
    this.metricHelp = help;
    this.read = read;
    registry.registerMetric(this);
  }

  override async get(): Promise<HistogramData> {
    return this.getForPromString();
  }

  async getForPromString(): Promise<HistogramData> {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    const name = this.metricName;
    for (const [cmd, c] of this.read()) {
      const h = c.histogram;
      const bounds = durationBounds(h.length);
      let acc = 0;
      for (let k = 0; k < bounds.length; k++) {
        acc += h[k]!;
        values.push({ metricName: `${name}_bucket`, labels: { cmd, le: bounds[k]! }, value: acc });
      }
      acc += h[h.length - 1]!;
      values.push({ metricName: `${name}_bucket`, labels: { cmd, le: '+Inf' }, value: acc });
      values.push({ metricName: `${name}_sum`, labels: { cmd }, value: c.usec / 1e6 });
      values.push({ metricName: `${name}_count`, labels: { cmd }, value: acc });
    }
    const data = { name, help: this.metricHelp, type: 'histogram', values, aggregator: 'sum' };
    return data as unknown as HistogramData;
  }
}

export interface Metrics {
  readonly registry: Registry;
  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string>;
  readonly contentType: string;
  /** Stops the event-loop monitor. */
  close(): void;
}

type Labels = Record<string, string>;
/** Emits one sample (labels → value) from a collect() callback. */
type Emit = (labels: Labels, value: number) => void;

export function createMetrics(srv: Server): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const shardCount = srv.shards.count;

  // Every metric is refilled from scratch in its collect(): counters too (reset, then inc to
  // the current total), since the totals live in CommandStats and the shard blocks.
  const gauge = (name: string, help: string, labelNames: string[], fill: (emit: Emit) => void): void => {
    new Gauge({
      name: PREFIX + name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill((labels, v) => this.set(labels, v));
      },
    });
  };
  const counter = (name: string, help: string, labelNames: string[], fill: (emit: Emit) => void): void => {
    new Counter({
      name: PREFIX + name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill((labels, v) => this.inc(labels, v));
      },
    });
  };
  const eachShard =
    (value: (i: number, st: Float64Array, now: number) => number) =>
    (emit: Emit): void => {
      const now = Date.now();
      for (let i = 0; i < shardCount; i++) emit({ shard: String(i) }, value(i, srv.shards.stats(i), now));
    };
  const one =
    (value: () => number) =>
    (emit: Emit): void =>
      emit({}, value());

  // Process figures (CPU, RSS, heap, GC, handles, fds, event-loop lag histogram of this thread).
  collectDefaultMetrics({ register: registry, prefix: PREFIX });

  gauge(
    'build_info',
    'Always 1; labels carry the Tessera version, the Redis version it follows and the Node.js version.',
    ['version', 'redis_version', 'node_version'],
    (emit) =>
      emit({ version: TESSERA_VERSION, redis_version: REDIS_VERSION, node_version: process.version }, 1),
  );

  // One CommandStats snapshot per scrape, shared by the three command metrics: the registry
  // calls their collect()s in the same turn; the cache is dropped before the next turn.
  let snap: Map<string, CommandCounters> | null = null;
  const commands = (): Map<string, CommandCounters> => {
    if (snap === null) {
      snap = srv.commandStats.snapshot();
      setImmediate(() => (snap = null));
    }
    return snap;
  };

  counter(
    'commands_total',
    'Commands called, per command (subcommands as "config|get"), counted once per client command like INFO commandstats calls.',
    ['cmd'],
    (emit) => {
      for (const [cmd, c] of commands()) emit({ cmd }, c.calls);
    },
  );
  counter(
    'command_errors_total',
    'Commands that answered an error, per command; kind="failed": failed while executing, kind="rejected": refused before executing (arity, NOAUTH...), as Redis failed_calls/rejected_calls.',
    ['cmd', 'kind'],
    (emit) => {
      for (const [cmd, c] of commands()) {
        emit({ cmd, kind: 'failed' }, c.failed);
        emit({ cmd, kind: 'rejected' }, c.rejected);
      }
    },
  );
  new CommandDurationHistogram(
    `${PREFIX}command_duration_seconds`,
    'Command execution time, per command, where it ran (a shard or the main thread; a command split across shards counts once per part); queueing and network time excluded, as Redis latencystats. Power-of-two buckets from 2 us.',
    registry,
    commands,
  );

  // Per shard, from the shard's shared stats block.
  const shard = ['shard'];
  gauge(
    'shard_keys',
    'Keys in the shard, all databases.',
    shard,
    eachShard((_i, st) => st[S.ST_KEYS]!),
  );
  gauge(
    'shard_keys_with_expiry',
    'Keys with a TTL in the shard, all databases.',
    shard,
    eachShard((_i, st) => st[S.ST_EXPIRES]!),
  );
  gauge(
    'shard_memory_bytes',
    'Bytes the shard uses for data (live arena chunks, index tables, values of other types), as INFO used_memory: the figure its share of maxmemory limits.',
    shard,
    eachShard((_i, st) => st[S.ST_MEMORY]!),
  );
  gauge(
    'shard_memory_held_bytes',
    'Bytes the shard holds for data: arena pages (empty pooled ones included), index tables, values of other types, as INFO allocator_active.',
    shard,
    eachShard((_i, st) => st[S.ST_HELD]!),
  );
  gauge(
    'shard_request_ring_depth_bytes',
    'Bytes queued in the request ring from the main thread to the shard, not yet consumed.',
    shard,
    eachShard((i) => srv.shards.requestDepth(i)),
  );
  counter(
    'shard_ops_total',
    'Commands (or parts of multi-shard commands) the shard executed.',
    shard,
    eachShard((_i, st) => st[S.ST_OPS]!),
  );
  counter(
    'shard_keyspace_hits_total',
    'Key lookups in the shard that found the key.',
    shard,
    eachShard((_i, st) => st[S.ST_HITS]!),
  );
  counter(
    'shard_keyspace_misses_total',
    'Key lookups in the shard that did not find the key.',
    shard,
    eachShard((_i, st) => st[S.ST_MISSES]!),
  );
  counter(
    'shard_expired_keys_total',
    'Keys the shard removed because their TTL passed (lazily or by active expiry).',
    shard,
    eachShard((_i, st) => st[S.ST_EXPIRED]!),
  );
  counter(
    'shard_evicted_keys_total',
    'Keys the shard evicted to stay within its share of maxmemory (maxmemory-policy).',
    shard,
    eachShard((_i, st) => st[S.ST_EVICTED]!),
  );
  gauge(
    'shard_heartbeat_age_seconds',
    `Time since the shard worker last published its stats; it does so at least every ${SHARD_PUBLISH_INTERVAL_MS} ms while its loop runs.`,
    shard,
    eachShard((i, _st, now) => heartbeatAgeMs(srv, i, now) / 1000),
  );

  // Event-loop lag of every thread, one metric so that one panel shows them all.
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  gauge(
    'event_loop_lag_seconds',
    `Event-loop lag per thread. thread="main": longest delay since the previous scrape (monitorEventLoopDelay, its ${LOOP_RESOLUTION_MS} ms resolution subtracted). thread="shard-N": how far the worker's heartbeat is behind its ${SHARD_PUBLISH_INTERVAL_MS} ms publish interval (0 when responsive).`,
    ['thread'],
    (emit) => {
      emit({ thread: 'main' }, loop.count > 0 ? Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS) / 1000 : 0);
      loop.reset();
      const now = Date.now();
      for (let i = 0; i < shardCount; i++)
        emit({ thread: `shard-${i}` }, shardLagMs(heartbeatAgeMs(srv, i, now)) / 1000);
    },
  );

  // Clients and network (main thread).
  gauge(
    'connected_clients',
    'Client connections open now.',
    [],
    one(() => srv.conns.size),
  );
  counter(
    'connections_received_total',
    'Client connections accepted since start.',
    [],
    one(() => srv.stats.totalConnections),
  );
  counter(
    'connections_rejected_total',
    'Client connections refused (maxclients, protected mode).',
    [],
    one(() => srv.stats.rejectedConnections),
  );
  gauge(
    'blocked_clients',
    'Clients blocked in a blocking command (BLPOP, BZPOPMIN…) waiting for data.',
    [],
    one(() => srv.blocking.blockedClients),
  );
  counter(
    'net_input_bytes_total',
    'Bytes read from client sockets.',
    [],
    one(() => srv.stats.netInput),
  );
  counter(
    'net_output_bytes_total',
    'Bytes written to client sockets.',
    [],
    one(() => srv.stats.netOutput),
  );
  counter(
    'protocol_errors_total',
    'Client connections closed for a RESP protocol error.',
    [],
    one(() => srv.stats.protocolErrors),
  );

  // Pub/Sub (main thread).
  gauge(
    'pubsub_channels',
    'Channels with at least one subscriber (INFO pubsub_channels).',
    [],
    one(() => srv.pubsub.channels.size),
  );
  gauge(
    'pubsub_patterns',
    'Patterns with at least one subscriber (INFO pubsub_patterns).',
    [],
    one(() => srv.pubsub.patterns.size),
  );
  gauge(
    'pubsub_shard_channels',
    'Shard channels with at least one subscriber (INFO pubsubshard_channels).',
    [],
    one(() => srv.pubsub.shardChannels.size),
  );
  counter(
    'pubsub_messages_delivered_total',
    'Pub/Sub messages handed to subscribers (one message to n receivers counts n), keyspace notifications included.',
    [],
    one(() => srv.pubsub.delivered),
  );
  counter(
    'client_output_limit_disconnections_total',
    'Clients disconnected for exceeding client-output-buffer-limit (e.g. subscribers that do not keep up).',
    [],
    one(() => srv.outputLimits.disconnections),
  );

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close: () => loop.disable(),
  };
}
