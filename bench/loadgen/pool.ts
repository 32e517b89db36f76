/**
 * The load generator as seen from the main thread: a piscina pool of client threads. One run
 * hands every thread its share of the connections (and of the open-loop rate, or of the preload
 * keyspace), gives them a common start time, and merges what they return.
 */
import { Piscina } from 'piscina';
import { encode, merge } from '../stats/histogram.ts';
import type { Workload } from '../workload/types.ts';
import type { RunResult, RunTask } from './task.ts';

export interface RunOptions {
  host: string;
  port: number;
  workload: Workload;
  phase: 'preload' | 'measure';
  warmupMs: number;
  durationMs: number;
  seed: number;
  /** Called with the start time (epoch ms) once tasks are queued; progress reads `counters`. */
  onStart?: (startAt: number, counters: Float64Array) => void;
}

/** All threads' results combined; the per-thread fields it shares keep RunResult's meaning. */
export interface Merged extends Pick<
  RunResult,
  | 'mismatches'
  | 'misses'
  | 'samples'
  | 'histogram'
  | 'service'
  | 'windowMs'
  | 'backlog'
  | 'unanswered'
  | 'startedLate'
> {
  ops: number;
  perCommand: { command: string; ops: number; errors: number; unsupported: number }[];
  errors: number;
  unsupported: number;
}

export class LoadPool {
  readonly threads: number;
  private readonly pool: Piscina;

  constructor(threads: number) {
    this.threads = threads;
    this.pool = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 3_600_000,
      concurrentTasksPerWorker: 1,
    });
  }

  async run(o: RunOptions): Promise<Merged> {
    const w = o.workload;
    // Preload is about getting data in, not measuring: a few deep-pipelined connections per thread.
    const total = o.phase === 'preload' ? Math.min(4 * this.threads, Math.max(1, w.keys)) : w.connections;
    const threads = Math.min(this.threads, total);
    const progress = new SharedArrayBuffer(8 * threads);
    // Give threads time to open their connections before the common start.
    const startAt = Date.now() + 150 + 2 * total;
    const tasks: Promise<RunResult>[] = [];
    let offset = 0;
    for (let i = 0; i < threads; i++) {
      const conns = Math.floor(total / threads) + (i < total % threads ? 1 : 0);
      const from = Math.floor((w.keys * i) / threads);
      const to = Math.floor((w.keys * (i + 1)) / threads);
      const task: RunTask = {
        host: o.host,
        port: o.port,
        workload: w,
        phase: o.phase,
        thread: i,
        threads,
        connections: conns,
        connOffset: offset,
        totalConnections: total,
        startAt,
        warmupMs: o.warmupMs,
        durationMs: o.durationMs,
        seed: o.seed,
        progress,
        preloadFrom: from,
        preloadTo: to,
      };
      offset += conns;
      tasks.push(this.pool.run(task) as Promise<RunResult>);
    }
    o.onStart?.(startAt, new Float64Array(progress));
    const results = await Promise.all(tasks);
    return mergeResults(w, results);
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

export function mergeResults(w: Workload, results: RunResult[]): Merged {
  const sum = (f: (r: RunResult) => number): number => results.reduce((s, r) => s + f(r), 0);
  const perCommand = w.mix.map((m, i) => ({
    command: m.command,
    ops: sum((r) => r.ops[i] ?? 0),
    errors: sum((r) => r.errors[i] ?? 0),
    unsupported: sum((r) => r.unsupported[i] ?? 0),
  }));
  const service = results.map((r) => r.service).filter((s): s is string => s !== null);
  return {
    ops: perCommand.reduce((s, c) => s + c.ops, 0),
    perCommand,
    errors: sum((r) => r.errors.reduce((a, b) => a + b, 0)),
    unsupported: sum((r) => r.unsupported.reduce((a, b) => a + b, 0)),
    mismatches: sum((r) => r.mismatches),
    misses: sum((r) => r.misses),
    samples: results.flatMap((r) => r.samples).slice(0, 10),
    histogram: encode(merge(results.map((r) => r.histogram))),
    service: service.length ? encode(merge(service)) : null,
    windowMs: Math.max(0, ...results.map((r) => r.windowMs)),
    backlog: sum((r) => r.backlog),
    unanswered: sum((r) => r.unanswered),
    startedLate: Math.max(0, ...results.map((r) => r.startedLate)),
  };
}
