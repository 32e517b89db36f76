import { TABLE } from '../commands/table.ts';

/**
 * The latency monitor (LATENCY LATEST/HISTORY/RESET/DOCTOR), Redis 7 semantics: with
 * latency-monitor-threshold > 0 (ms), an event lasting at least the threshold is sampled under
 * its event name; each event keeps its all-time max and a ring of 160 samples, one per second
 * (samples within the same second collapse into one, keeping the max).
 *
 * Events: "command" (a command executed for ≥ threshold), "fast-command" (the same for a
 * command flagged fast, as Redis splits them) and "expire-cycle" (one active-expiry step of a
 * shard). Time is wall-clock seconds, latency whole milliseconds (µs / 1000, truncated).
 *
 * Where the event happens (each shard worker, and the main thread for its own commands) the
 * samples are written into a Float64Array — over a SharedArrayBuffer for shards, allocated by
 * ShardSet and passed in workerData — so recording costs a few stores and no message. The main
 * thread merges every block when a LATENCY command asks. Slot 0 holds the threshold, written by
 * the main thread (startup and CONFIG SET) and read by the writer before each sample.
 *
 * Block layout (float64 slots): [threshold ms, 7 spare], then per event: [next index, max ms,
 * 160 × (time s, latency ms)]. A sample with time 0 is unused. RESET zeroes events from the main
 * thread while a shard may be writing one; at worst a sample racing with the reset survives.
 */

export const LATENCY_EVENTS = ['command', 'fast-command', 'expire-cycle'] as const;
export const EV_COMMAND = 0;
export const EV_FAST_COMMAND = 1;
export const EV_EXPIRE_CYCLE = 2;

/** Samples kept per event (Redis LATENCY_TS_LEN). */
export const LATENCY_TS_LEN = 160;
/** Slot of the threshold (ms, 0 = off) in every block. */
export const LAT_THRESHOLD = 0;
const HEADER = 8;
const EV_IDX = 0;
const EV_MAX = 1;
const EV_SAMPLES = 2;
const EV_STRIDE = EV_SAMPLES + 2 * LATENCY_TS_LEN;

export function latencyBlockBytes(): number {
  return (HEADER + LATENCY_EVENTS.length * EV_STRIDE) * 8;
}

/** Whether command index i is flagged fast (its slow runs are "fast-command" events). */
const FAST = TABLE.map((s) => s.flags.includes('fast'));

/** Add one sample of `ms` to event `ev` at second `now` (Redis latencyAddSample). */
export function addLatencySample(a: Float64Array, ev: number, ms: number, now: number): void {
  const b = HEADER + ev * EV_STRIDE;
  if (ms > a[b + EV_MAX]!) a[b + EV_MAX] = ms;
  const idx = a[b + EV_IDX]!;
  const prev = b + EV_SAMPLES + 2 * ((idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN);
  if (a[prev] === now) {
    if (ms > a[prev + 1]!) a[prev + 1] = ms;
    return;
  }
  const at = b + EV_SAMPLES + 2 * idx;
  a[at + 1] = ms;
  a[at] = now;
  a[b + EV_IDX] = (idx + 1) % LATENCY_TS_LEN;
}

/** Sample event `ev` that lasted `elapsedMs` if the monitor is on and it reached the threshold. */
export function sampleLatency(a: Float64Array, ev: number, elapsedMs: number): void {
  const threshold = a[LAT_THRESHOLD]!;
  if (threshold > 0 && elapsedMs >= threshold)
    addLatencySample(a, ev, Math.floor(elapsedMs), Math.floor(Date.now() / 1000));
}

/** After command `cmd` (table index) executed for `us` µs: the "command"/"fast-command" event. */
export function sampleCommandLatency(a: Float64Array, cmd: number, us: number): void {
  const threshold = a[LAT_THRESHOLD]!;
  if (threshold > 0 && us >= threshold * 1000)
    addLatencySample(
      a,
      FAST[cmd] === true ? EV_FAST_COMMAND : EV_COMMAND,
      Math.floor(us / 1000),
      Math.floor(Date.now() / 1000),
    );
}

export interface LatencySeries {
  /** Time (s) and latency (ms) of the most recent sample. */
  latestTime: number;
  latestMs: number;
  /** All-time maximum (ms) since the event was last reset. */
  max: number;
  /** Samples oldest first, at most one per second, at most LATENCY_TS_LEN. */
  samples: [number, number][];
}

/**
 * The main thread's view: its own block, the shards' blocks, the threshold. Reads merge the
 * blocks: samples of the same second keep the largest latency, the newest 160 seconds are kept.
 */
export class LatencyMonitor {
  /** Samples of commands executed on the main thread (not shared: only main writes it). */
  readonly local = new Float64Array(latencyBlockBytes() / 8);
  private readonly blocks: Float64Array[];

  constructor(shardBlocks: Float64Array[], threshold: number) {
    this.blocks = [this.local, ...shardBlocks];
    this.setThreshold(threshold);
  }

  get threshold(): number {
    return this.local[LAT_THRESHOLD]!;
  }

  setThreshold(ms: number): void {
    for (const b of this.blocks) b[LAT_THRESHOLD] = ms;
  }

  /** One event merged over every block, or null if no block holds a sample of it. */
  series(ev: number): LatencySeries | null {
    const bySecond = new Map<number, number>();
    let max = 0;
    for (const a of this.blocks) {
      const b = HEADER + ev * EV_STRIDE;
      for (let i = 0; i < LATENCY_TS_LEN; i++) {
        const t = a[b + EV_SAMPLES + 2 * i]!;
        if (t === 0) continue;
        const ms = a[b + EV_SAMPLES + 2 * i + 1]!;
        const cur = bySecond.get(t);
        if (cur === undefined || ms > cur) bySecond.set(t, ms);
      }
      max = Math.max(max, a[b + EV_MAX]!);
    }
    if (bySecond.size === 0) return null;
    const samples = [...bySecond].sort((x, y) => x[0] - y[0]).slice(-LATENCY_TS_LEN);
    const [latestTime, latestMs] = samples[samples.length - 1]!;
    return { latestTime, latestMs, max: Math.max(max, latestMs), samples };
  }

  /** Every event that has samples, in LATENCY_EVENTS order. */
  all(): [string, LatencySeries][] {
    const out: [string, LatencySeries][] = [];
    LATENCY_EVENTS.forEach((name, ev) => {
      const s = this.series(ev);
      if (s !== null) out.push([name, s]);
    });
    return out;
  }

  /** LATENCY RESET: forget the named events (all with none); returns how many had samples. */
  reset(names?: string[]): number {
    let n = 0;
    const targets = names ?? [...LATENCY_EVENTS];
    for (const name of targets) {
      const ev = (LATENCY_EVENTS as readonly string[]).indexOf(name);
      if (ev < 0 || this.series(ev) === null) continue;
      n++;
      const b = HEADER + ev * EV_STRIDE;
      for (const a of this.blocks) a.fill(0, b, b + EV_STRIDE);
    }
    return n;
  }
}
