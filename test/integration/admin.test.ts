/**
 * tessera-admin against a real daemon: the CLI runs as a child process (node
 * bin/tessera-admin.mjs), like an operator would run it.
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, freePort, startTessera } from '../helpers/server.ts';

const BIN = path.join(ROOT, 'bin/tessera-admin.mjs');
const PASSWORD = 'adm1n-Quokka';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function admin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = { ...process.env };
    delete clean.TESSERA_PASSWORD;
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...clean, ...env }, timeout: 15_000 },
      (error, out, err) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, out, err });
      },
    );
  });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tessera-admin-'));
const cfgFile = path.join(tmp, 'tessera.json');
writeFileSync(cfgFile, JSON.stringify({ maxclients: 1000 }));
const tes = await startTessera(['--shards', '2', '--config', cfgFile]);
const P = ['-p', String(tes.port)];
t.teardown(async () => {
  await tes.stop();
  rmSync(tmp, { recursive: true, force: true });
});

t.test('stats: a table with one row per shard and totals; --json parses', async (t) => {
  const r = new Redis({ port: tes.port, lazyConnect: true });
  await r.connect();
  const pipe = r.pipeline();
  for (let i = 0; i < 3000; i++) pipe.set(`adm:${i}`, 'x'.repeat(100));
  await pipe.exec();
  r.disconnect();
  await new Promise((res) => setTimeout(res, 250)); // shards publish figures every ~100 ms

  const table = await admin(['stats', ...P]);
  t.equal(table.code, 0, table.err);
  t.match(table.out, /^Tessera \S+ at 127\.0\.0\.1:\d+ +up \S+ +2 shard\(s\)/, 'header line');
  t.match(
    table.out,
    /\nshard +ops\/s +ops +keys +expires +memory +ring +expired +evicted +wal pos +wal lag\n/,
  );
  t.match(table.out, /\n0 +\S+ +\S+ +1\.\dk /, 'shard 0 row (keys as 1.5k)');
  t.match(table.out, /\n1 +\S+ +\S+ +1\.\dk /, 'shard 1 row');
  t.match(
    table.out,
    /\ntotal +\S+ +\S+ +3\.0k +0 +\d+\.\d (KiB|MiB) /,
    'totals: 3.0k keys, memory with its unit',
  );
  t.notMatch(table.out, /wal: n\/a/, 'the WAL columns have figures');

  const json = await admin(['stats', '--json', ...P]);
  t.equal(json.code, 0);
  const s = JSON.parse(json.out) as {
    shard_count: number;
    total: { keys: number; wal_position: unknown };
    shards: Record<string, { keys: number }>;
  };
  t.equal(s.shard_count, 2);
  t.equal(s.total.keys, 3000);
  t.equal(s.shards['0']!.keys + s.shards['1']!.keys, 3000);
  t.type(s.total.wal_position, 'number');
});

t.test('stats --watch redraws until Ctrl-C, then exits 0', async (t) => {
  const p = spawn(process.execPath, [BIN, 'stats', '--watch', '0.2', '--json', ...P], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  for (let i = 0; i < 100 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  p.kill('SIGINT');
  t.equal(await exited, 0, 'exit 0 on SIGINT');
  const lines = out.trim().split('\n');
  t.ok(lines.length >= 2, `refreshed (${lines.length} snapshots)`);
  t.ok(
    lines.every((l) => typeof (JSON.parse(l) as { shard_count: number }).shard_count === 'number'),
    'one JSON document per refresh',
  );
});

t.test('config get / set / rewrite, info, ping, slowlog', async (t) => {
  const set = await admin(['config', 'set', 'maxclients', '777', ...P]);
  t.equal(set.code, 0, set.err);
  t.equal(set.out, 'OK\n');
  const get = await admin(['config', 'get', 'max*', ...P]);
  t.equal(get.code, 0);
  t.match(get.out, /^name +value\nmaxclients +777\n/);
  const json = await admin(['config', 'get', 'maxclients', '--json', ...P]);
  t.same(JSON.parse(json.out), { maxclients: '777' });
  const bad = await admin(['config', 'set', 'maxclients', 'lots', ...P]);
  t.equal(bad.code, 1, 'an error reply exits 1');
  t.match(bad.err, /^tessera-admin: config: ERR CONFIG SET failed/);
  const rw = await admin(['config', 'rewrite', ...P]);
  t.equal(rw.code, 0, rw.err);
  t.equal((JSON.parse(readFileSync(cfgFile, 'utf8')) as { maxclients: number }).maxclients, 777);

  const info = await admin(['info', 'server', ...P]);
  t.match(info.out, /^# Server\nredis_version:/, 'INFO text with plain newlines');
  const ping = await admin(['ping', ...P]);
  t.match(ping.out, /^PONG \(\d+\.\d+ ms\)\n$/);
  const slow = await admin(['slowlog', ...P]);
  t.equal(slow.code, 0, slow.err);
  t.ok(slow.out.length > 0);
});

t.test('errors: unreachable server, usage, check-wal, --help', async (t) => {
  const port = await freePort();
  const down = await admin(['ping', '-p', String(port)]);
  t.equal(down.code, 1, 'exit 1 when unreachable');
  t.equal(
    down.err,
    `tessera-admin: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)\n`,
  );
  t.equal(down.out, '');

  const usage = await admin(['frobnicate', ...P]);
  t.equal(usage.code, 2);
  t.match(usage.err, /unknown command 'frobnicate'/);
  t.equal((await admin(['config', 'get', ...P])).code, 2, 'missing argument is a usage error');

  const wal = await admin(['check-wal', '/nonexistent/tessera-data']);
  t.equal(wal.code, 2);
  t.equal(wal.err, 'check-wal: cannot open directory /nonexistent/tessera-data\n');

  for (const cmd of ['stats', 'config', 'info', 'slowlog', 'ping', 'check-wal']) {
    const h = await admin([cmd, '--help']);
    t.equal(h.code, 0, `${cmd} --help exits 0`);
    t.match(h.out, new RegExp(`^Usage: tessera-admin ${cmd}`), `${cmd} --help`);
  }
  const main = await admin(['--help']);
  t.match(main.out, /Commands:[\s\S]*check-wal[\s\S]*TESSERA_PASSWORD/);
});

t.test('auth: TESSERA_PASSWORD, -a, NOAUTH and WRONGPASS', async (t) => {
  const s = await startTessera(['--requirepass', PASSWORD]);
  const p = ['-p', String(s.port)];
  const env = await admin(['ping', ...p], { TESSERA_PASSWORD: PASSWORD });
  t.equal(env.code, 0, env.err);
  t.match(env.out, /^PONG/);
  t.equal(env.err, '', 'no warning with the environment variable');

  const flag = await admin(['ping', '-a', PASSWORD, ...p]);
  t.equal(flag.code, 0);
  t.match(flag.err, /^Warning: using a password with '-a'/, 'warns about -a');
  t.notMatch(flag.err + flag.out, PASSWORD, 'never prints the password');

  const none = await admin(['stats', ...p]);
  t.equal(none.code, 1);
  t.match(none.err, /^tessera-admin: the server requires a password \(NOAUTH\)/);
  const wrong = await admin(['stats', ...p], { TESSERA_PASSWORD: 'nope' });
  t.equal(wrong.code, 1);
  t.match(wrong.err, /^tessera-admin: authentication failed: WRONGPASS/);
  t.notMatch(wrong.err, 'nope');

  const secret = await admin(['config', 'get', 'requirepass', ...p], { TESSERA_PASSWORD: PASSWORD });
  t.match(secret.out, /requirepass +\(hidden\)/, 'config get hides the secret');
  t.notMatch(secret.out, PASSWORD);
  await s.stop();
});
