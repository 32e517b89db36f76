/**
 * npm run bench:redis [-- --reps 5 --quick --shards N --only REGEX --appendfsync always|everysec|no]
 *
 * Starts Tessera and a real redis-server (same machine, free ports; persistence off, or with
 * --appendfsync both log with appendonly yes and that policy to their own temp dirs), warms
 * both up, then runs each redis-benchmark workload against both, interleaved (R T, T R, …) so
 * machine drift cancels out, and reports medians and the median of per-pair ratios. Results go
 * to bench/results/<date>.json and a markdown table on stdout (pasted into README).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ROOT } from '../test/helpers/server.ts';
import { launchRedis, launchTessera, type Launched } from './targets/launch.ts';

const run = promisify(execFile);
const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    shards: { type: 'string', default: '0' },
    only: { type: 'string', default: '' },
    appendfsync: { type: 'string', default: '' },
  },
});
const reps = opts.quick ? 1 : Number(opts.reps);

interface Row {
  name: string;
  args: string[];
}
const N_P1 = opts.quick ? 50000 : 200000;
const N_P16 = opts.quick ? 200000 : 1000000;
const base = ['-c', '50', '-r', '100000', '--csv'];
const ROWS: Row[] = [
  { name: 'SET 3B P1', args: [...base, '-n', String(N_P1), '-d', '3', '-t', 'set'] },
  { name: 'GET 3B P1', args: [...base, '-n', String(N_P1), '-d', '3', '-t', 'get'] },
  { name: 'SET 3B P16', args: [...base, '-n', String(N_P16), '-d', '3', '-P', '16', '-t', 'set'] },
  { name: 'GET 3B P16', args: [...base, '-n', String(N_P16), '-d', '3', '-P', '16', '-t', 'get'] },
  { name: 'INCR P1', args: [...base, '-n', String(N_P1), '-t', 'incr'] },
  { name: 'MSET10 P1', args: [...base, '-n', String(N_P1 / 2), '-t', 'mset'] },
  // Data types (issue 3): each at pipeline 1 and 16. LRANGE_100 prefills its list itself.
  ...['lpush', 'lpop', 'sadd', 'hset', 'zadd', 'lrange_100', 'mset', 'mget'].flatMap((t) =>
    [1, 16].map((p) => ({
      name: `${t.toUpperCase()} P${p}`,
      args: [
        ...base,
        '-n',
        String((p === 1 ? N_P1 : N_P16) / (t === 'lrange_100' ? 10 : 1)),
        '-P',
        String(p),
        ...(t === 'mget'
          ? ['MGET', ...new Array<string>(10).fill('key:__rand_int__')]
          : ['-d', '3', '-t', t]),
      ],
    })),
  ),
].filter((r) => opts.only === '' || new RegExp(opts.only).test(r.name));

async function bench(port: number, args: string[]): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-p', String(port), ...args], { maxBuffer: 1 << 20 });
  const line = stdout.trim().split('\n').pop()!;
  return Number(line.split(',')[1]!.replace(/"/g, ''));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// The same launchers as npm run bench: free ports (retried on a lost race), temp dirs, no
// persistence, Tessera without a metrics listener.
const aof = opts.appendfsync === '' ? null : ['--appendonly', 'yes', '--appendfsync', opts.appendfsync];
const redis = await launchRedis(aof ?? []);
const tessera = await launchTessera(opts.shards === '0' ? null : opts.shards, 20000, aof ?? undefined);
const results: { name: string; redis: number[]; tessera: number[]; ratios: number[] }[] = [];
try {
  for (const s of [redis, tessera]) await bench(s.port, [...base, '-n', '100000', '-t', 'set,get']);
  for (const row of ROWS) {
    const r = { name: row.name, redis: [] as number[], tessera: [] as number[], ratios: [] as number[] };
    for (let i = 0; i < reps; i++) {
      const order = i % 2 === 0 ? [redis, tessera] : [tessera, redis];
      const got = new Map<Launched, number>();
      for (const s of order) got.set(s, await bench(s.port, row.args));
      r.redis.push(got.get(redis)!);
      r.tessera.push(got.get(tessera)!);
      r.ratios.push(got.get(tessera)! / got.get(redis)!);
      process.stderr.write(
        `${row.name} rep ${i + 1}/${reps}: redis ${got.get(redis)} tessera ${got.get(tessera)}\n`,
      );
    }
    results.push(r);
  }
} finally {
  await Promise.all([redis.stop(), tessera.stop()]);
}

const { stdout: commit } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).catch(() => ({
  stdout: 'unknown',
}));
const { stdout: redisVersion } = await run('redis-server', ['--version']);
const meta = {
  date: new Date().toISOString(),
  commit: commit.trim(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  node: process.version,
  redis: redisVersion.trim(),
  reps,
  shards: opts.shards,
  appendfsync: opts.appendfsync === '' ? 'persistence off' : opts.appendfsync,
};
console.log(
  `\n${meta.date} commit ${meta.commit}; ${meta.machine}; node ${meta.node}; reps ${reps} (medians)\n`,
);
console.log('| workload | redis ops/s | tessera ops/s | ratio (median of pairs) | ratio min–max |');
console.log('|---|--:|--:|--:|--:|');
for (const r of results) {
  console.log(
    `| ${r.name} | ${Math.round(median(r.redis)).toLocaleString('en')} | ${Math.round(median(r.tessera)).toLocaleString('en')} | ${median(r.ratios).toFixed(2)} | ${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)} |`,
  );
}
const outDir = path.join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `${meta.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ meta, results }, null, 2));
console.log(`\nraw results: ${path.relative(ROOT, file)}`);
