/**
 * Starts the servers the harness owns: Tessera exactly as `npm start` runs it (node
 * --max-semi-space-size=1 src/main.ts) and, as the baseline, a real redis-server with the same
 * persistence settings (none, unless a benchmark asks both for the same WAL/AOF settings). Free
 * ports and temp dirs come from the test helpers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, startRedis } from '../../test/helpers/server.ts';

export interface Launched {
  port: number;
  pid: number;
  dir: string;
  /** A message when the process has exited (crash or kill), else null. */
  exited(): string | null;
  output(): string;
  stop(): Promise<void>;
}

/** What the launchers run by default: persistence off on both. */
export const TESSERA_PERSISTENCE = 'none (--appendonly no)';
export const REDIS_PERSISTENCE = "none (--save '' --appendonly no)";

export function redisOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `extra` flags default to persistence off, like the Redis baseline. */
export async function launchTessera(
  shards: string | null,
  timeoutMs = 20000,
  extra: string[] = ['--appendonly', 'no'],
): Promise<Launched> {
  // freePort() is check-then-use: another process can take the port first; try fresh ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchTesseraOnce(shards, timeoutMs, extra);
    } catch (err) {
      if (attempt >= 5 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function launchTesseraOnce(
  shards: string | null,
  timeoutMs: number,
  extra: string[],
): Promise<Launched> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
  const args = [
    '--max-semi-space-size=1',
    path.join(ROOT, 'src/main.ts'),
    '--port',
    String(port),
    '--dir',
    dir,
    '--loglevel',
    'warning',
    // No metrics listener: the default port may belong to a daemon already running here.
    '--metrics-port',
    '0',
  ];
  if (shards !== null) args.push('--shards', shards);
  args.push(...extra);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exitMsg: string | null = null;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code, sig) => {
      exitMsg = `tessera exited (${sig ?? `code ${code}`})`;
      r();
    }),
  );
  proc.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  proc.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const stop = async (): Promise<void> => {
    if (exitMsg === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!/Ready to accept connections/.test(out)) {
    if (exitMsg !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Tessera did not start (${exitMsg ?? 'timeout'}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { port, pid: proc.pid!, dir, exited: () => exitMsg, output: () => out, stop };
}

/** `flags` override the baseline's (e.g. --appendonly yes --appendfsync always). */
export async function launchRedis(flags: string[] = []): Promise<Launched> {
  const p = await startRedis(flags);
  let exitMsg: string | null = null;
  p.proc.once('exit', (code, sig) => (exitMsg = `redis-server exited (${sig ?? `code ${code}`})`));
  return {
    port: p.port,
    pid: p.proc.pid!,
    dir: p.dir,
    exited: () => exitMsg,
    output: () => p.output(),
    stop: async () => {
      await p.stop();
    },
  };
}
