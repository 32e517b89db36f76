/**
 * What a result needs to be reproducible and comparable: machine, software versions, commit
 * and date. Recorded in every JSON and HTML report.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../test/helpers/server.ts';

export interface Meta {
  date: string;
  commit: string;
  dirty: boolean;
  machine: { cores: number; model: string; memoryGiB: number; os: string; arch: string };
  node: string;
  tessera: string;
  redisServer: string | null;
  command: string;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export function collectMeta(argv: string[]): Meta {
  const cpus = os.cpus();
  let redisServer: string | null = null;
  try {
    redisServer = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // not installed: only --target servers can be measured
  }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) ?? 'unknown',
    dirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    machine: {
      cores: os.availableParallelism(),
      model: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()}`,
      arch: os.arch(),
    },
    node: process.version,
    tessera: pkg.version,
    redisServer,
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
  };
}
