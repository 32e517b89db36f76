/**
 * npm run bench:restart [-- --keys 1000000 --hashes 100000 --fields 10 --appendfsync everysec --shards 0]
 *
 * Restart time with a persisted data set, Tessera against redis-server with the matching
 * settings (appendonly yes, the same appendfsync, no RDB saves): loads `keys` string keys
 * (16-byte keys, 32-byte values) and `hashes` hashes of `fields` fields into each, stops it
 * cleanly, starts it again on its data directory and reports the time from spawn to "Ready to
 * accept connections" and the load time the server logs itself. Either may have compacted
 * its log meanwhile (Redis's and Tessera's automatic AOF rewrite / snapshot at 64 MB), as a
 * production server would have. Prints a markdown table (pasted into README).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, ROOT } from '../test/helpers/server.ts';

const { values: opts } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    hashes: { type: 'string', default: '100000' },
    fields: { type: 'string', default: '10' },
    appendfsync: { type: 'string', default: 'everysec' },
    shards: { type: 'string', default: '0' },
  },
});
const KEYS = Number(opts.keys);
const HASHES = Number(opts.hashes);
const FIELDS = Number(opts.fields);

interface Server {
  proc: ChildProcess;
  out: () => string;
  readyMs: number;
}

async function start(cmd: string, args: string[]): Promise<Server> {
  const t0 = performance.now();
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  while (!/Ready to accept connections/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`${cmd} exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { proc, out: () => out, readyMs: performance.now() - t0 };
}

async function stop(s: Server, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill(sig);
  await exited;
}

function resp(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** Pipelined load over one connection, 1000 commands per batch (every reply is one line). */
async function load(port: number): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let lines = 0;
  let waiter: (() => void) | null = null;
  let want = 0;
  sock.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) lines++;
    if (waiter !== null && lines >= want) waiter();
  });
  const send = async (cmds: string[]): Promise<void> => {
    want += cmds.length;
    sock.write(cmds.join(''));
    if (lines < want) await new Promise<void>((r) => (waiter = r));
    waiter = null;
  };
  let batch: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    batch.push(resp(['SET', `key:${String(i).padStart(12, '0')}`, `v${String(i).padStart(31, '0')}`]));
    if (batch.length === 1000) {
      await send(batch);
      batch = [];
    }
  }
  for (let i = 0; i < HASHES; i++) {
    const args = ['HSET', `hash:${String(i).padStart(11, '0')}`];
    for (let f = 0; f < FIELDS; f++) args.push(`field${f}`, `value-${i}-${f}`);
    batch.push(resp(args));
    if (batch.length === 1000) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await send(batch);
  sock.end();
}

const loaded = (out: string): number => {
  // Redis 7 logs each part of a multi-part AOF and then the total: use the total when there.
  const total = /DB loaded from append only file: ([\d.]+) seconds/.exec(out);
  if (total !== null) return Number(total[1]);
  let s = 0;
  for (const m of out.matchAll(/DB loaded from [^:]*: ([\d.]+) seconds/g)) s += Number(m[1]);
  return s;
};

interface Result {
  name: string;
  readyMs: number;
  loadSeconds: number;
}
const results: Result[] = [];
const base = mkdtempSync(path.join(os.tmpdir(), 'bench-restart-'));
try {
  {
    const dir = path.join(base, 'redis');
    mkdirSync(dir);
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'];
    args.push('--appendfsync', opts.appendfsync!, '--dir', dir);
    let s = await start('redis-server', args);
    await load(port);
    await stop(s);
    s = await start('redis-server', args);
    results.push({ name: 'redis-server', readyMs: s.readyMs, loadSeconds: loaded(s.out()) });
    await stop(s);
  }
  {
    const dir = path.join(base, 'tessera');
    const port = await freePort();
    const args = ['--max-semi-space-size=1', path.join(ROOT, 'src/main.ts'), '--port', String(port)];
    args.push(
      '--dir',
      dir,
      '--metrics-port',
      '0',
      '--loglevel',
      'notice',
      '--appendfsync',
      opts.appendfsync!,
    );
    if (opts.shards !== '0') args.push('--shards', opts.shards!);
    let s = await start(process.execPath, args);
    await load(port);
    await stop(s);
    s = await start(process.execPath, args);
    results.push({ name: 'tessera', readyMs: s.readyMs, loadSeconds: loaded(s.out()) });
    await stop(s);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
console.log(
  `\n${new Date().toISOString()}: ${KEYS} keys + ${HASHES} hashes × ${FIELDS} fields, appendfsync ${opts.appendfsync}\n`,
);
console.log('| server | spawn → ready (s) | load time it logs (s) |');
console.log('|---|--:|--:|');
for (const r of results)
  console.log(`| ${r.name} | ${(r.readyMs / 1000).toFixed(2)} | ${r.loadSeconds.toFixed(3)} |`);
