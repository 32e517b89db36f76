/**
 * Persistence tests: start the daemon on a data directory the test owns (kept across
 * restarts), run it to a failed start-up, and read the data files.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startTessera, type Proc } from './server.ts';

/** Start Tessera on `dir` (stop() leaves dir alone: it only removes the helper's own temp dir). */
export function startOn(dir: string, flags: string[] = [], timeoutMs = 30000): Promise<Proc> {
  return startTessera(['--dir', dir, ...flags], timeoutMs);
}

/** Run the daemon expecting it to stop by itself (a refused start-up): exit code and output. */
export function runToExit(
  dir: string,
  flags: string[] = [],
  timeoutMs = 30000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [path.join(ROOT, 'src/main.ts'), '--port', '0', '--metrics-port', '0', '--dir', dir, ...flags],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`daemon did not exit in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export function walFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.wal'))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    .map((n) => path.join(dir, n));
}

export function dataFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /\.(wal|snap)$/.test(n))
    .sort();
}

/** SIGKILL: a crash, nothing flushed on the way out. */
export async function crash(p: Proc): Promise<void> {
  const exited = new Promise<void>((r) => p.proc.once('exit', () => r()));
  p.proc.kill('SIGKILL');
  await exited;
}
