/**
 * npm run bench [-- options]   (see --help and docs/benchmarks.md)
 *
 * Starts Tessera and redis-server (or measures --target servers), runs the workload suite from
 * bench/workloads/ against every target interleaved, and reports throughput, latency
 * percentiles, server CPU per operation and reply correctness: a terminal table on stdout and
 * JSON + HTML + markdown files in bench/results/. Exit code 1 when a target failed or returned
 * wrong replies, 2 on bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HELP, parseOptions, UsageError, type Options } from './cli/options.ts';
import { Progress } from './cli/progress.ts';
import { LoadPool } from './loadgen/pool.ts';
import { htmlReport } from './report/html.ts';
import { markdownTable, terminalTable } from './report/table.ts';
import { runSuite } from './suite/runner.ts';
import type { Report } from './suite/results.ts';
import { collectMeta } from './targets/meta.ts';
import {
  externalTargets,
  ownedTargets,
  parseTargetSpec,
  stopTargets,
  type Target,
} from './targets/targets.ts';
import { checkUnique, loadWorkloadDir, loadWorkloadFile, WorkloadError } from './workload/load.ts';
import type { Workload } from './workload/types.ts';

function selectWorkloads(o: Options): Workload[] {
  const all = o.workloadFiles.length
    ? checkUnique(o.workloadFiles.map((f) => loadWorkloadFile(f)))
    : loadWorkloadDir().filter((w) => w.suites.includes(o.suite));
  const picked = all
    .filter((w) => o.only === null || o.only.test(w.name))
    .map((w) => ({
      ...w,
      keys: o.keys ?? w.keys,
      connections: o.connections ?? w.connections,
      pipeline: o.pipeline ?? w.pipeline,
      rate: w.mode === 'open' && o.rate !== null ? o.rate : w.rate,
    }));
  if (picked.length === 0) throw new UsageError('no workload selected (check --suite / --only / --workload)');
  return picked;
}

function estimateSeconds(o: Options, workloads: Workload[], targets: number): number {
  return workloads.length * (targets * (o.reps * ((o.warmupMs + o.durationMs) / 1000 + 0.4) + 1));
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const workloads = selectWorkloads(o);
  if (o.list) {
    for (const w of workloads) console.log(`${w.name.padEnd(32)} ${w.description}`);
    return 0;
  }
  const progress = new Progress(o.progress);
  const meta = collectMeta(argv);
  let targets: Target[] = [];
  let pool: LoadPool | null = null;
  const cleanup = async (): Promise<void> => {
    await pool?.destroy().catch(() => undefined);
    pool = null;
    await stopTargets(targets);
    targets = [];
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    progress.note(`\n${sig}: stopping servers`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    targets = o.targets.length
      ? await externalTargets(o.targets.map(parseTargetSpec))
      : await ownedTargets({ shards: o.shards, redis: o.redis });
    const baseline =
      o.baseline ?? (targets.length > 1 ? (targets.find((t) => t.kind === 'redis')?.name ?? null) : null);
    if (baseline !== null && !targets.some((t) => t.name === baseline)) {
      throw new UsageError(
        `--baseline ${baseline}: no such target (${targets.map((t) => t.name).join(', ')})`,
      );
    }
    progress.note(
      `targets: ${targets.map((t) => `${t.name} (${t.kind} ${t.version} at ${t.host}:${t.port})`).join(', ')}; ` +
        `${workloads.length} workloads × ${o.reps} reps, ~${Math.ceil(estimateSeconds(o, workloads, targets.length) / 60)} min`,
    );
    pool = new LoadPool(o.threads);
    const results = await runSuite(
      pool,
      targets,
      workloads,
      {
        reps: o.reps,
        warmupMs: o.warmupMs,
        durationMs: o.durationMs,
        seed: o.seed,
        flushExternal: o.flush,
        baseline,
      },
      progress,
    );
    const report: Report = {
      meta,
      settings: {
        suite: o.workloadFiles.length ? 'custom' : o.suite,
        quick: o.quick,
        reps: o.reps,
        warmupMs: o.warmupMs,
        durationMs: o.durationMs,
        threads: o.threads,
        seed: o.seed,
        baseline,
      },
      targets: targets.map((t) => ({
        name: t.name,
        kind: t.kind,
        version: t.version,
        address: `${t.host}:${t.port}`,
        owned: t.owned,
        pidSource: t.pidSource,
        persistence: t.persistence,
      })),
      workloads: results,
    };
    const files = writeReports(report, o.out);
    console.log(
      `\n${meta.date} · commit ${meta.commit}${meta.dirty ? '+dirty' : ''} · ${meta.machine.cores} × ${meta.machine.model} · Node ${meta.node}`,
    );
    console.log(`persistence: ${report.targets.map((t) => `${t.name} ${t.persistence}`).join('; ')}\n`);
    console.log(terminalTable(report));
    console.log(`\nreports: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
    const bad = results.some((w) => w.cells.some((c) => c.status === 'failed' || c.mismatches > 0));
    return bad ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

function writeReports(report: Report, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, `bench-${report.meta.date.replace(/[:.]/g, '-')}`);
  const files = [`${stem}.json`, `${stem}.html`, `${stem}.md`];
  writeFileSync(files[0]!, JSON.stringify(report, null, 2));
  writeFileSync(files[1]!, htmlReport(report));
  writeFileSync(
    files[2]!,
    `${report.meta.date} · commit ${report.meta.commit}${report.meta.dirty ? ' (uncommitted changes)' : ''} · ${report.meta.machine.cores} × ${report.meta.machine.model} · Node ${report.meta.node} · \`${report.meta.command}\`\n\n${markdownTable(report)}\n`,
  );
  return files;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof WorkloadError) {
    console.error(`bench: ${e.message}`);
    process.exitCode = 2;
  } else {
    console.error(e);
    process.exitCode = 1;
  }
}
