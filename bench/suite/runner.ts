/**
 * Runs a list of workloads against a list of targets. Per workload: probe which commands each
 * target supports, flush (owned targets only) and preload, then the repetitions, interleaved
 * A B, B A, A B … so that drift of a shared machine (thermal, noisy neighbours) hits every
 * target alike. Server CPU is sampled from /proc exactly over each measurement window.
 */
import type { LoadPool, Merged } from '../loadgen/pool.ts';
import { buildTemplate, encodeOne } from '../resp/commands.ts';
import { ControlClient } from '../resp/control.ts';
import { isUnknownCommand, lineText } from '../resp/reply.ts';
import { ValueCodec } from '../resp/values.ts';
import { CpuWindow } from '../stats/cpu.ts';
import { percentiles, decode } from '../stats/histogram.ts';
import type { Target } from '../targets/targets.ts';
import { evicts, type Workload } from '../workload/types.ts';
import type { Progress } from '../cli/progress.ts';
import { fmtInt, fmtMs } from '../report/format.ts';
import { aggregate, emptyCell, hitRate, ratios, type Cell, type WorkloadResult } from './results.ts';

export interface SuiteOptions {
  reps: number;
  warmupMs: number;
  durationMs: number;
  seed: number;
  /** FLUSHALL --target servers too (owned ones are always flushed). */
  flushExternal: boolean;
  baseline: string | null;
}

/** Commands of the workload that the target answers with "-ERR unknown command". */
export async function probe(t: Target, w: Workload): Promise<string[]> {
  const c = await ControlClient.connect(t.host, t.port);
  const codec = new ValueCodec(w.valueSize);
  const missing: string[] = [];
  try {
    for (const m of w.mix) {
      if (missing.includes(m.command)) continue;
      const r = await c.send(encodeOne(buildTemplate(m, w.prefix, w.valueSize), codec, 0));
      if (isUnknownCommand(r, 0, r.length)) missing.push(m.command);
      else if (r[0] === 45) throw new Error(`${m.command} probe failed: ${lineText(r, 0, r.length)}`);
    }
  } finally {
    c.close();
  }
  return missing;
}

/**
 * CONFIG SET the workload's `server` settings on a target; returns the previous values so
 * they can be put back after the workload (CONFIG GET answers [name, value]).
 */
async function configure(t: Target, server: Record<string, string>): Promise<Record<string, string>> {
  const entries = Object.entries(server);
  if (entries.length === 0) return {};
  const c = await ControlClient.connect(t.host, t.port);
  try {
    const previous: Record<string, string> = {};
    for (const [name, value] of entries) {
      const got = (await c.call('CONFIG', 'GET', name)).toString('utf8').split('\r\n');
      if (got[0] === '*2') previous[name] = got[4]!;
      await c.text('CONFIG', 'SET', name, value);
    }
    return previous;
  } finally {
    c.close();
  }
}

async function flushAll(t: Target): Promise<void> {
  const c = await ControlClient.connect(t.host, t.port);
  try {
    await c.text('FLUSHALL');
  } finally {
    c.close();
  }
}

export async function runSuite(
  pool: LoadPool,
  targets: Target[],
  workloads: Workload[],
  o: SuiteOptions,
  progress: Progress,
): Promise<WorkloadResult[]> {
  const out: WorkloadResult[] = [];
  for (const [wi, w] of workloads.entries()) {
    const tag = `[${wi + 1}/${workloads.length}] ${w.name}`;
    const cells = new Map<Target, Cell>();
    const restore = new Map<Target, Record<string, string>>();
    for (const t of targets) cells.set(t, await prepare(pool, t, w, o, progress, tag, restore));
    for (let rep = 0; rep < o.reps; rep++) {
      const order = rep % 2 === 0 ? targets : [...targets].reverse();
      for (const [position, t] of order.entries()) {
        const cell = cells.get(t)!;
        if (cell.status !== 'ok') continue;
        const label = `${tag} · ${t.name} · rep ${rep + 1}/${o.reps}`;
        try {
          const r = await measure(pool, t, w, o, progress, label);
          const opsPerSec = r.windowMs > 0 ? (r.ops * 1000) / r.windowMs : 0;
          const cpu = r.cpuSeconds;
          cell.reps.push({
            rep,
            position,
            opsPerSec,
            latency: percentiles(decode(r.run.histogram)),
            cpuUsPerOp: cpu !== null && r.run.ops > 0 ? (cpu * 1e6) / r.run.ops : null,
            cpuCores: cpu !== null && r.run.windowMs > 0 ? cpu / (r.run.windowMs / 1000) : null,
            clientCores: r.run.windowMs > 0 ? r.clientCpuSeconds / (r.run.windowMs / 1000) : 0,
            run: r.run,
          });
          const lat = cell.reps.at(-1)!.latency;
          progress.end(
            `${label}: ${fmtInt(opsPerSec)} ops/s, p50 ${fmtMs(lat.p50)} ms, p99 ${fmtMs(lat.p99)} ms`,
          );
        } catch (e) {
          progress.end(`${label}: FAILED ${(e as Error).message}`);
          cell.status = 'failed';
          cell.error = describeFailure(t, e as Error);
        }
      }
    }
    for (const t of targets) {
      if (t.owned && t.launched?.exited() === null) await flushAll(t).catch(() => undefined);
      const previous = restore.get(t);
      if (previous !== undefined) await configure(t, previous).catch(() => undefined);
    }
    const done = targets.map((t) => {
      const c = aggregate(cells.get(t)!);
      return evicts(w) ? { ...c, hitRate: hitRate(c, w) } : c;
    });
    out.push({ workload: w, cells: done, ratios: ratios(done, o.baseline) });
  }
  return out;
}

/** Probe, flush, preload; returns the cell in its starting state. */
async function prepare(
  pool: LoadPool,
  t: Target,
  w: Workload,
  o: SuiteOptions,
  progress: Progress,
  tag: string,
  restore: Map<Target, Record<string, string>>,
): Promise<Cell> {
  try {
    const missing = await probe(t, w);
    if (missing.length > 0) {
      progress.note(`${tag} · ${t.name}: unsupported by target (${missing.join(', ')})`);
      return { ...emptyCell(t.name, 'unsupported'), unsupportedCommands: missing };
    }
    if (t.owned || o.flushExternal) await flushAll(t);
    restore.set(t, await configure(t, w.server));
    const cell = emptyCell(t.name, 'ok');
    if (w.preload) {
      const label = `${tag} · ${t.name} · preload ${fmtInt(w.keys)} keys`;
      const r = await pool.run({ ...common(t, w, o), phase: 'preload', onStart: () => undefined });
      cell.mismatches += r.mismatches;
      cell.errors += r.errors;
      cell.samples.push(...r.samples);
      progress.end(`${label}: done`);
    }
    return cell;
  } catch (e) {
    progress.note(`${tag} · ${t.name}: FAILED ${(e as Error).message}`);
    return emptyCell(t.name, 'failed', describeFailure(t, e as Error));
  }
}

function common(t: Target, w: Workload, o: SuiteOptions) {
  return {
    host: t.host,
    port: t.port,
    workload: w,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    seed: o.seed,
  };
}

async function measure(
  pool: LoadPool,
  t: Target,
  w: Workload,
  o: SuiteOptions,
  progress: Progress,
  label: string,
): Promise<{
  run: Merged;
  ops: number;
  windowMs: number;
  cpuSeconds: number | null;
  clientCpuSeconds: number;
}> {
  const cpu = new CpuWindow(t.pid);
  // The generator's own CPU (this process, all threads) over the same window: a generator
  // near its thread count in cores is the bottleneck, not the server.
  let client0: NodeJS.CpuUsage | null = null;
  let client = 0;
  const timers: NodeJS.Timeout[] = [];
  let ended: () => void = () => undefined;
  const windowClosed = new Promise<void>((r) => (ended = r));
  try {
    const run = await pool.run({
      ...common(t, w, o),
      phase: 'measure',
      onStart: (startAt, counters) => {
        // Sample the server's CPU exactly at the window the threads measure.
        const begin = startAt + o.warmupMs;
        timers.push(
          setTimeout(() => {
            cpu.mark('begin');
            client0 = process.cpuUsage();
          }, begin - Date.now()),
          setTimeout(
            () => {
              cpu.mark('end');
              const d = process.cpuUsage(client0 ?? undefined);
              client = (d.user + d.system) / 1e6;
              ended();
            },
            begin + o.durationMs - Date.now(),
          ),
        );
        progress.begin(label, startAt, o.warmupMs, o.durationMs, counters);
      },
    });
    // The threads may finish draining a hair before this thread's end-of-window timer fires.
    await windowClosed;
    return { run, ops: run.ops, windowMs: run.windowMs, cpuSeconds: cpu.seconds(), clientCpuSeconds: client };
  } finally {
    for (const x of timers) clearTimeout(x);
  }
}

function describeFailure(t: Target, e: Error): string {
  const exited = t.launched?.exited();
  if (exited) {
    const tail = t.launched!.output().trim().split('\n').slice(-5).join('\n');
    return `${exited}: ${e.message}${tail ? `\n${tail}` : ''}`;
  }
  return e.message;
}
