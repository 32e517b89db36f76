/**
 * Per-command execution statistics, kept where commands execute (each shard worker, and the
 * main thread for its own commands) in a Float64Array over a SharedArrayBuffer, so INFO
 * commandstats/latencystats, LATENCY HISTOGRAM and /metrics read them without messages.
 *
 * Layout per command index: [usec total, failed calls, 32 histogram buckets]; bucket k counts
 * executions lasting [2^k, 2^(k+1)) µs (bucket 0 also takes < 1 µs). Calls are counted once
 * per client command by the dispatcher (a command split across shards executes in several).
 * Like Redis, only execution is timed — not queueing or network time.
 */
export const EXEC_USEC = 0;
export const EXEC_FAILED = 1;
export const EXEC_HIST = 2;
export const HIST_BUCKETS = 32;
export const EXEC_STRIDE = EXEC_HIST + HIST_BUCKETS;

export function execStatsBytes(commands: number): number {
  return commands * EXEC_STRIDE * 8;
}

/** Record one execution of command `cmd` that took `us` microseconds. */
export function recordExec(a: Float64Array, cmd: number, us: number, failed: boolean): void {
  const b = cmd * EXEC_STRIDE;
  a[b + EXEC_USEC]! += us;
  if (failed) a[b + EXEC_FAILED]!++;
  const k = us < 2 ? 0 : Math.min(HIST_BUCKETS - 1, Math.floor(Math.log2(us)));
  a[b + EXEC_HIST + k]!++;
}
