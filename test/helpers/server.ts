/**
 * Starts real processes for integration tests: the Tessera daemon (node src/main.ts) and, as
 * the oracle, a real redis-server — each on a free port with a temp data dir — and stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Proc {
  port: number;
  /** Tessera's metrics/health HTTP port (0 when disabled, and for redis-server). */
  metricsPort: number;
  dir: string;
  proc: ChildProcess;
  /** Everything the process wrote to stdout+stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Every process started here, so none outlives the test file: tap terminates a test that runs
 * past its timeout with SIGTERM, which would otherwise leave daemons running.
 */
const children = new Set<ChildProcess>();
function reapChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.once('exit', reapChildren);
process.once('SIGTERM', () => {
  reapChildren();
  process.exit(143);
});

function launch(
  cmd: string,
  args: string[],
  dir: string,
  port: number,
  ready: RegExp,
  timeoutMs: number,
  metricsPort = 0,
): Promise<Proc> {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const handle: Proc = {
    port,
    metricsPort,
    dir,
    proc,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${cmd} did not become ready in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        resolve(handle);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code} before ready:\n${out}`));
    });
  });
}

/**
 * Start Tessera with redis-server style flags, e.g. startTessera(['--shards', '2']). The
 * metrics/health endpoint gets a free port too (so parallel daemons do not collide on 9121)
 * unless `flags` sets --metrics-port itself.
 */
/**
 * Ports come from freePort(), which only says a port was free a moment ago: a parallel test
 * file can take it before the daemon binds it. A start that fails on an address in use is
 * retried with fresh ports — unless the caller chose the port (then the failure is the point).
 */
async function retryOnPortRace(start: () => Promise<Proc>, retriable: boolean): Promise<Proc> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const inUse = /EADDRINUSE|Address already in use/.test((err as Error).message);
      if (!retriable || !inUse || attempt >= 5) throw err;
    }
  }
}

export async function startTessera(flags: string[] = [], timeoutMs = 20000): Promise<Proc> {
  const retriable = !flags.includes('--port') && !flags.includes('--metrics-port');
  return retryOnPortRace(() => startTesseraOnce(flags, timeoutMs), retriable);
}

async function startTesseraOnce(flags: string[], timeoutMs: number): Promise<Proc> {
  const port = await freePort();
  const at = flags.lastIndexOf('--metrics-port');
  const metricsPort = at >= 0 ? Number(flags[at + 1]) : await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  return launch(
    process.execPath,
    [
      path.join(ROOT, 'src/main.ts'),
      '--port',
      String(port),
      '--metrics-port',
      String(metricsPort),
      '--dir',
      dir,
      '--loglevel',
      'warning',
      ...flags,
    ],
    dir,
    port,
    /Ready to accept connections/,
    timeoutMs,
    metricsPort,
  );
}

/** Start a real redis-server (the oracle) with persistence off. */
export async function startRedis(flags: string[] = []): Promise<Proc> {
  return retryOnPortRace(() => startRedisOnce(flags), !flags.includes('--port'));
}

async function startRedisOnce(flags: string[]): Promise<Proc> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'redis-oracle-'));
  return launch(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...flags,
    ],
    dir,
    port,
    /Ready to accept connections/,
    10000,
  );
}
