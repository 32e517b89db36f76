/**
 * The result model shared by the runner and the reports (terminal, JSON, HTML), and the
 * aggregation rules: throughput is the median over repetitions, latency percentiles come from
 * the histograms of all repetitions merged, and a ratio is the median of per-repetition ratios
 * (each pair ran back to back, so slow drift of the machine cancels).
 */
import type { Merged } from '../loadgen/pool.ts';
import { curve, encode, merge, percentiles, type Percentiles } from '../stats/histogram.ts';
import type { Meta } from '../targets/meta.ts';
import type { Workload } from '../workload/types.ts';

export interface RepResult {
  rep: number;
  /** 0 when this target ran first in its pair, 1 when second (the order alternates). */
  position: number;
  opsPerSec: number;
  latency: Percentiles;
  /** Server CPU seconds per operation ×1e6 (µs/op), and cores busy; null when the pid is unknown. */
  cpuUsPerOp: number | null;
  cpuCores: number | null;
  /** Cores the load generator (this process) used over the window. */
  clientCores: number;
  run: Merged;
}

export type CellStatus = 'ok' | 'unsupported' | 'failed';

export interface Cell {
  target: string;
  status: CellStatus;
  /** Commands the target answered with "-ERR unknown command". */
  unsupportedCommands: string[];
  error: string | null;
  reps: RepResult[];
  opsPerSec: number;
  latency: Percentiles;
  /** Latency from the actual send (open loop only); `latency` counts from the intended time. */
  serviceLatency: Percentiles | null;
  curve: { x: number; percentile: number; ms: number }[];
  cpuUsPerOp: number | null;
  cpuCores: number | null;
  clientCores: number;
  mismatches: number;
  errors: number;
  misses: number;
  /** Workloads under a memory limit (`server.maxmemory`): share of reads that found their key. */
  hitRate: number | null;
  backlog: number;
  /** Requests never answered (the drain after the window timed out). */
  unanswered: number;
  samples: string[];
  /** All repetitions merged, HdrHistogram compressed base64 (µs). */
  histogram: string | null;
}

export interface Ratio {
  target: string;
  baseline: string;
  median: number;
  min: number;
  max: number;
}

export interface WorkloadResult {
  workload: Workload;
  cells: Cell[];
  ratios: Ratio[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const EMPTY: Percentiles = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };

export function emptyCell(target: string, status: CellStatus, error: string | null = null): Cell {
  return {
    target,
    status,
    unsupportedCommands: [],
    error,
    reps: [],
    opsPerSec: 0,
    latency: EMPTY,
    serviceLatency: null,
    curve: [],
    cpuUsPerOp: null,
    cpuCores: null,
    clientCores: 0,
    mismatches: 0,
    errors: 0,
    misses: 0,
    hitRate: null,
    backlog: 0,
    unanswered: 0,
    samples: [],
    histogram: null,
  };
}

/** Fill a cell's aggregates from its repetitions. */
export function aggregate(cell: Cell): Cell {
  const reps = cell.reps;
  if (reps.length === 0) return cell;
  const h = merge(reps.map((r) => r.run.histogram));
  const service = reps.map((r) => r.run.service).filter((s): s is string => s !== null);
  const cpu = reps.map((r) => r.cpuUsPerOp).filter((x): x is number => x !== null);
  const cores = reps.map((r) => r.cpuCores).filter((x): x is number => x !== null);
  return {
    ...cell,
    opsPerSec: median(reps.map((r) => r.opsPerSec)),
    latency: percentiles(h),
    serviceLatency: service.length ? percentiles(merge(service)) : null,
    curve: curve(h),
    cpuUsPerOp: cpu.length ? median(cpu) : null,
    cpuCores: cores.length ? median(cores) : null,
    clientCores: median(reps.map((r) => r.clientCores)),
    mismatches: reps.reduce((s, r) => s + r.run.mismatches, cell.mismatches),
    errors: reps.reduce((s, r) => s + r.run.errors, cell.errors),
    misses: reps.reduce((s, r) => s + r.run.misses, 0),
    backlog: reps.reduce((s, r) => s + r.run.backlog, 0),
    unanswered: reps.reduce((s, r) => s + r.run.unanswered, 0),
    samples: [...cell.samples, ...reps.flatMap((r) => r.run.samples)].slice(0, 10),
    histogram: encode(h),
  };
}

/** Ratios of every other target's throughput to the baseline's, pairing repetitions by index. */
export function ratios(cells: Cell[], baseline: string | null): Ratio[] {
  const base = cells.find((c) => c.target === baseline);
  if (!base || base.status !== 'ok') return [];
  const out: Ratio[] = [];
  for (const c of cells) {
    if (c === base || c.status !== 'ok') continue;
    const rs: number[] = [];
    for (const r of c.reps) {
      const b = base.reps.find((x) => x.rep === r.rep);
      if (b && b.opsPerSec > 0) rs.push(r.opsPerSec / b.opsPerSec);
    }
    if (rs.length)
      out.push({
        target: c.target,
        baseline: base.target,
        median: median(rs),
        min: Math.min(...rs),
        max: Math.max(...rs),
      });
  }
  return out;
}

/** A cell that ran but must not be read as a valid result. */
/**
 * Hit rate of the GETs inside the measurement windows: 1 - nil replies / GETs (the nil count
 * covers GET only in the workloads this is shown for: GET/SET mixes). Null without GETs.
 */
export function hitRate(c: Cell, w: Workload): number | null {
  let reads = 0;
  for (const r of c.reps) {
    r.run.perCommand.forEach((pc, i) => {
      if (w.mix[i]!.command === 'GET') reads += pc.ops;
    });
  }
  return reads > 0 ? 1 - c.misses / reads : null;
}

export function flags(c: Cell): string[] {
  const f: string[] = [];
  if (c.mismatches > 0) f.push(`WRONG REPLIES ×${c.mismatches}`);
  if (c.errors > 0) f.push(`errors ×${c.errors}`);
  // A few requests held back by one late stall at the window's edge are in the latency tail
  // already; flag the cell only when the target clearly could not sustain the rate.
  if (c.backlog > 0.01 * c.latency.count) f.push(`behind rate ×${c.backlog}`);
  if (c.unanswered > 0) f.push(`unanswered ×${c.unanswered}`);
  return f;
}

/** Everything one `npm run bench` produced: what the JSON file holds and the HTML renders. */
export interface Report {
  meta: Meta;
  settings: {
    suite: string;
    quick: boolean;
    reps: number;
    warmupMs: number;
    durationMs: number;
    threads: number;
    seed: number;
    baseline: string | null;
  };
  targets: {
    name: string;
    kind: string;
    version: string;
    address: string;
    owned: boolean;
    pidSource: string;
    persistence: string;
  }[];
  workloads: WorkloadResult[];
}
