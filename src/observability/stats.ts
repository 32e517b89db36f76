/**
 * STATS: per-shard and total figures in one reply (a RESP3 map; flat arrays of pairs in
 * RESP2). Shard figures come from the shared stats blocks the workers publish (at most
 * ~100 ms old); ops/s comes from a small ring of (time, ops) samples per shard that the server
 * cron takes, so STATS itself costs no message to any shard.
 */
import type { RespWriter } from '../protocol/writer.ts';
import * as S from '../router/shard-stats.ts';
import type { Server } from '../server/server.ts';
import { walLag, walPosition } from '../persistence/info-fields.ts';
import { TESSERA_VERSION } from '../version.ts';

/** The window ops/s is computed over. */
export const OPS_WINDOW_MS = 5000;

/**
 * Cumulative op counts per shard sampled over time. A sample is kept at most every
 * `minIntervalMs` (the cron may run up to 500 times a second), so `capacity` samples always
 * span more than the window: 64 × 100 ms = 6.4 s > 5 s.
 */
export class OpsSampler {
  readonly shards: number;
  private readonly capacity: number;
  private readonly minIntervalMs: number;
  private readonly times: Float64Array;
  /** capacity × shards cumulative op counts, sample-major. */
  private readonly ops: Float64Array;
  /** Samples stored (≤ capacity) and the slot the next one goes to. */
  private count = 0;
  private next = 0;

  constructor(shards: number, capacity = 64, minIntervalMs = 100) {
    this.shards = shards;
    this.capacity = capacity;
    this.minIntervalMs = minIntervalMs;
    this.times = new Float64Array(capacity);
    this.ops = new Float64Array(capacity * shards);
  }

  /** Records `readOps(i)` for every shard at time `now` (ms), unless the last sample is too recent. */
  sample(now: number, readOps: (shard: number) => number): void {
    if (this.count > 0 && now - this.times[this.slot(0)]! < this.minIntervalMs) return;
    const s = this.next;
    this.times[s] = now;
    for (let i = 0; i < this.shards; i++) this.ops[s * this.shards + i] = readOps(i);
    this.next = (s + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * Ops per second of each shard between the newest sample and the oldest one not older than
   * `windowMs` before it; `windowMs` in the result is the span actually used (shorter right
   * after startup; 0 with fewer than two samples, when every rate is 0).
   */
  rates(windowMs = OPS_WINDOW_MS): { perShard: number[]; windowMs: number } {
    const perShard = new Array<number>(this.shards).fill(0);
    if (this.count < 2) return { perShard, windowMs: 0 };
    const newest = this.slot(0);
    const tNew = this.times[newest]!;
    let oldest = newest;
    for (let back = 1; back < this.count; back++) {
      const s = this.slot(back);
      if (tNew - this.times[s]! > windowMs) break;
      oldest = s;
    }
    const span = tNew - this.times[oldest]!;
    if (span <= 0) return { perShard, windowMs: 0 };
    for (let i = 0; i < this.shards; i++) {
      const d = this.ops[newest * this.shards + i]! - this.ops[oldest * this.shards + i]!;
      perShard[i] = Math.max(0, (d * 1000) / span);
    }
    return { perShard, windowMs: span };
  }

  /** The slot of the sample `back` steps before the newest. */
  private slot(back: number): number {
    return (this.next - 1 - back + 2 * this.capacity) % this.capacity;
  }
}

/** One shard's figures, or the totals over all shards. */
export interface StatsFigures {
  ops_per_sec: number;
  ops: number;
  keys: number;
  expires: number;
  memory_bytes: number;
  ring_depth_bytes: number;
  expired_keys: number;
  evicted_keys: number;
  /** Bytes appended to the WAL since start; null with appendonly no. */
  wal_position: number | null;
  /** Of those, bytes not yet made durable by an fsync; null with appendonly no. */
  wal_lag_bytes: number | null;
}

export interface StatsReport {
  version: string;
  uptime_seconds: number;
  shard_count: number;
  ops_window_ms: number;
  rss_bytes: number;
  total: StatsFigures & { connections: number; total_connections: number; rejected_connections: number };
  shards: Record<string, StatsFigures>;
}

export function collectStats(srv: Server): StatsReport {
  const { perShard, windowMs } = srv.opsSampler.rates();
  const shards: Record<string, StatsFigures> = {};
  const total: StatsFigures = emptyFigures();
  for (let i = 0; i < srv.shards.count; i++) {
    const st = srv.shards.stats(i);
    const f: StatsFigures = {
      ops_per_sec: Math.round(perShard[i]!),
      ops: st[S.ST_OPS]!,
      keys: st[S.ST_KEYS]!,
      expires: st[S.ST_EXPIRES]!,
      memory_bytes: st[S.ST_MEMORY]!,
      ring_depth_bytes: srv.shards.requestDepth(i),
      expired_keys: st[S.ST_EXPIRED]!,
      evicted_keys: st[S.ST_EVICTED]!,
      wal_position: walPosition(srv, i),
      wal_lag_bytes: walLag(srv, i),
    };
    shards[String(i)] = f;
    total.ops += f.ops;
    total.keys += f.keys;
    total.expires += f.expires;
    total.memory_bytes += f.memory_bytes;
    total.ring_depth_bytes += f.ring_depth_bytes;
    total.expired_keys += f.expired_keys;
    total.evicted_keys += f.evicted_keys;
    if (f.wal_position !== null) total.wal_position = (total.wal_position ?? 0) + f.wal_position;
    if (f.wal_lag_bytes !== null) total.wal_lag_bytes = (total.wal_lag_bytes ?? 0) + f.wal_lag_bytes;
  }
  total.ops_per_sec = Math.round(perShard.reduce((a, b) => a + b, 0));
  return {
    version: TESSERA_VERSION,
    uptime_seconds: Math.floor((Date.now() - srv.startedAt) / 1000),
    shard_count: srv.shards.count,
    ops_window_ms: Math.round(windowMs),
    rss_bytes: process.memoryUsage.rss(),
    total: {
      ...total,
      connections: srv.conns.size,
      total_connections: srv.stats.totalConnections,
      rejected_connections: srv.stats.rejectedConnections,
    },
    shards,
  };
}

function emptyFigures(): StatsFigures {
  return {
    ops_per_sec: 0,
    ops: 0,
    keys: 0,
    expires: 0,
    memory_bytes: 0,
    ring_depth_bytes: 0,
    expired_keys: 0,
    evicted_keys: 0,
    wal_position: null,
    wal_lag_bytes: null,
  };
}

/** Writes a report as nested maps: strings as bulk strings, numbers as integers, null as nil. */
export function writeStats(out: RespWriter, report: StatsReport): void {
  writeMap(out, report as unknown as Record<string, unknown>);
}

function writeMap(out: RespWriter, obj: Record<string, unknown>): void {
  const entries = Object.entries(obj);
  out.mapHeader(entries.length);
  for (const [k, v] of entries) {
    out.bulkString(k);
    if (v === null) out.nullBulk();
    else if (typeof v === 'number') out.integer(Math.round(v));
    else if (typeof v === 'string') out.bulkString(v);
    else writeMap(out, v as Record<string, unknown>);
  }
}
