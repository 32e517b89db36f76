import { TABLE } from '../commands/table.ts';
import type { ShardSet } from '../router/shards.ts';
import { EXEC_FAILED, EXEC_HIST, EXEC_STRIDE, EXEC_USEC, HIST_BUCKETS } from './exec-stats.ts';

export interface CommandCounters {
  calls: number;
  usec: number;
  failed: number;
  rejected: number;
  /** Execution-time histogram: bucket k = [2^k, 2^(k+1)) µs. */
  histogram: Float64Array;
}

/**
 * The whole server's per-command figures: calls and rejections counted by the dispatcher
 * (once per client command), execution time/failures/histograms summed over the main thread's
 * block and every shard's shared block. Read on demand (INFO, LATENCY, /metrics).
 */
export class CommandStats {
  readonly calls: Float64Array;
  readonly rejected: Float64Array;
  /** Execution stats of commands run on the main thread (same layout as a shard's). */
  readonly local: Float64Array;
  private readonly shards: ShardSet;

  constructor(shards: ShardSet) {
    this.shards = shards;
    this.calls = new Float64Array(TABLE.length);
    this.rejected = new Float64Array(TABLE.length);
    this.local = new Float64Array(TABLE.length * EXEC_STRIDE);
  }

  /** Commands with at least one call or rejection, by full name (e.g. "client|list"). */
  snapshot(): Map<string, CommandCounters> {
    const out = new Map<string, CommandCounters>();
    const blocks = [this.local];
    for (let i = 0; i < this.shards.count; i++) blocks.push(this.shards.execStats(i));
    for (const spec of TABLE) {
      const c = spec.index;
      if (this.calls[c] === 0 && this.rejected[c] === 0) continue;
      const histogram = new Float64Array(HIST_BUCKETS);
      let usec = 0;
      let failed = 0;
      const b = c * EXEC_STRIDE;
      for (const a of blocks) {
        usec += a[b + EXEC_USEC]!;
        failed += a[b + EXEC_FAILED]!;
        for (let k = 0; k < HIST_BUCKETS; k++) histogram[k]! += a[b + EXEC_HIST + k]!;
      }
      out.set(spec.name, { calls: this.calls[c]!, usec, failed, rejected: this.rejected[c]!, histogram });
    }
    return out;
  }

  /**
   * CONFIG RESETSTAT. Shard blocks are owned by the workers; they are zeroed from here, which
   * at worst loses an increment racing with the reset.
   */
  reset(): void {
    this.calls.fill(0);
    this.rejected.fill(0);
    this.local.fill(0);
    for (let i = 0; i < this.shards.count; i++) this.shards.execStats(i).fill(0);
  }
}

/** Percentile (0..100) from a log2 histogram, as the upper edge of the bucket reached (µs). */
export function histogramPercentile(h: Float64Array, p: number): number {
  let total = 0;
  for (const n of h) total += n;
  if (total === 0) return 0;
  const target = (p / 100) * total;
  let acc = 0;
  for (let k = 0; k < h.length; k++) {
    acc += h[k]!;
    if (acc >= target) return 2 ** (k + 1);
  }
  return 2 ** h.length;
}
