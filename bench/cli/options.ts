/**
 * Command-line options of `npm run bench` (parsed with node:util parseArgs), their defaults,
 * and the help text docs/benchmarks.md mirrors.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../../test/helpers/server.ts';

export const HELP = `Usage: npm run bench -- [options]

With no --target, starts Tessera (and redis-server when it is on PATH) on free ports, runs the
standard suite against both (interleaved), prints a table and writes JSON, HTML and markdown
reports to bench/results/. See docs/benchmarks.md.

Targets
  --target [name=]host:port  measure a running server instead (repeatable; nothing is started)
  --baseline NAME            target the ratio column divides by (default: the Redis target)
  --shards N                 --shards for the Tessera the harness starts (default: Tessera's auto)
  --no-redis                 do not start redis-server even when it is installed
  --flush                    FLUSHALL --target servers before each workload (destroys their data)

Workloads
  --suite NAME               workloads whose "suites" include NAME (default: standard)
  --only REGEX               only workloads whose name matches REGEX
  --workload FILE            run this workload file (repeatable; replaces the suite)
  --list                     list the selected workloads and exit
  --keys N                   override every workload's keyspace size
  --connections N            override every workload's connection count
  --pipeline N               override every workload's pipeline depth
  --rate N                   override the request rate of open-loop workloads

Run
  --quick                    smoke run of the whole suite in about a minute (1 rep, short windows)
  --reps N                   repetitions per workload and target (default 3, --quick 1)
  --duration S               measured seconds per run (default 4, --quick 1)
  --warmup S                 unmeasured seconds before each measurement (default 1, --quick 0.4)
  --threads N                load-generator threads (default ${defaultThreads()})
  --seed N                   seed for key choice (default 1)

Output
  --out DIR                  report directory (default bench/results)
  --no-progress              no progress bar / per-run lines on stderr
  -h, --help                 this text
`;

export interface Options {
  targets: string[];
  baseline: string | null;
  shards: string | null;
  redis: boolean;
  flush: boolean;
  suite: string;
  only: RegExp | null;
  workloadFiles: string[];
  list: boolean;
  keys: number | null;
  connections: number | null;
  pipeline: number | null;
  rate: number | null;
  quick: boolean;
  reps: number;
  durationMs: number;
  warmupMs: number;
  threads: number;
  seed: number;
  out: string;
  progress: boolean;
  help: boolean;
}

/**
 * Client threads: half the cores (1–4). Measured on 2 cores: a second generator thread took CPU
 * from the server and lowered both servers' throughput (Redis GET/SET P1 193k → 134k ops/s,
 * Tessera 108k → 100k), while one thread kept up with Redis at ~1 core.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / 2)));
}

export class UsageError extends Error {}

function num(name: string, v: string | undefined, min: number, integer = true): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} ${v}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
  }
  return n;
}

export function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string', multiple: true, default: [] },
        baseline: { type: 'string' },
        shards: { type: 'string' },
        'no-redis': { type: 'boolean', default: false },
        flush: { type: 'boolean', default: false },
        suite: { type: 'string', default: 'standard' },
        only: { type: 'string' },
        workload: { type: 'string', multiple: true, default: [] },
        list: { type: 'boolean', default: false },
        keys: { type: 'string' },
        connections: { type: 'string' },
        pipeline: { type: 'string' },
        rate: { type: 'string' },
        quick: { type: 'boolean', default: false },
        reps: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        threads: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const quick = values.quick;
  let only: RegExp | null = null;
  if (values.only !== undefined) {
    try {
      only = new RegExp(values.only);
    } catch (e) {
      throw new UsageError(`--only: ${(e as Error).message}`);
    }
  }
  const shards = values.shards;
  if (shards !== undefined && num('shards', shards, 0) === null) throw new UsageError('--shards');
  return {
    targets: values.target,
    baseline: values.baseline ?? null,
    shards: shards ?? null,
    redis: !values['no-redis'],
    flush: values.flush,
    suite: values.suite,
    only,
    workloadFiles: values.workload.map((f) => path.resolve(f)),
    list: values.list,
    keys: num('keys', values.keys, 1),
    connections: num('connections', values.connections, 1),
    pipeline: num('pipeline', values.pipeline, 1),
    rate: num('rate', values.rate, 1),
    quick,
    reps: num('reps', values.reps, 1) ?? (quick ? 1 : 3),
    durationMs: Math.round((num('duration', values.duration, 0.05, false) ?? (quick ? 1 : 4)) * 1000),
    warmupMs: Math.round((num('warmup', values.warmup, 0, false) ?? (quick ? 0.4 : 1)) * 1000),
    threads: num('threads', values.threads, 1) ?? defaultThreads(),
    seed: num('seed', values.seed, 0) ?? 1,
    out: path.resolve(values.out ?? path.join(ROOT, 'bench/results')),
    progress: !values['no-progress'],
    help: values.help,
  };
}
