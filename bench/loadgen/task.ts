/**
 * What the main thread asks one load-generator thread to do, and what it gets back. Plain data
 * (structured clone); histograms travel HdrHistogram-encoded so the main thread can merge them.
 */
import type { Workload } from '../workload/types.ts';

export interface RunTask {
  host: string;
  port: number;
  workload: Workload;
  /** preload: write every string key once, sequentially, then stop; measure: the timed run. */
  phase: 'preload' | 'measure';
  thread: number;
  threads: number;
  /** This thread's connections, and the global index of its first one (open-loop staggering). */
  connections: number;
  connOffset: number;
  totalConnections: number;
  /** Wall-clock (epoch ms) at which every thread starts sending, so windows line up. */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  seed: number;
  /** Float64Array over it, one slot per thread: replies received so far (for the progress bar). */
  progress: SharedArrayBuffer;
  /** preload: this thread's key index range [from, to). */
  preloadFrom: number;
  preloadTo: number;
}

export interface RunResult {
  thread: number;
  /** Per mix entry: correct replies inside the measurement window. */
  ops: number[];
  /** Per mix entry: error replies (other than unknown command) in the whole run. */
  errors: number[];
  /** Per mix entry: "-ERR unknown command" replies. */
  unsupported: number[];
  /** Replies that were not what the command must return (wrong value, type or shape). */
  mismatches: number;
  /** GET/MGET/HGET/LPOP nil replies inside the window (allowed ones). */
  misses: number;
  /** First few error/mismatch descriptions, for the report. */
  samples: string[];
  /** Latency (µs) of the window's replies; open loop: from the intended send time. */
  histogram: string;
  /** Open loop only: latency from the actual send time (service time). */
  service: string | null;
  windowMs: number;
  /** Open loop: requests due inside the window that were never sent (target or generator behind). */
  backlog: number;
  /** Requests still unanswered when the drain grace period ran out. */
  unanswered: number;
  /** How late (ms) this thread started sending after startAt (connect took too long). */
  startedLate: number;
}
