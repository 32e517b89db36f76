/**
 * Operations around persistence: clients connecting while a large WAL loads get Redis's
 * -LOADING (INFO still answers, with loading:1), and a full disk: writes are refused with
 * -MISCONF while reads keep working, the write whose record could not be made durable is
 * answered only once it is, writes resume by themselves when space comes back, and nothing
 * acknowledged is lost. The disk is a small tmpfs the test mounts (root only).
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Wal } from '../../src/persistence/wal.ts';
import { freePort, ROOT, type Proc } from '../helpers/server.ts';
import { rawConnect, replies, resp } from '../helpers/raw.ts';
import { crash, startOn } from '../helpers/persist.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'tessera-persist-ops-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('-LOADING while a large WAL is replayed', async (t) => {
  const dir = path.join(base, 'loading');
  mkdirSync(dir);
  // A WAL of 600k SETs written directly (much faster than through a server).
  const wal = new Wal(dir, 0, 1);
  wal.openSegment(1);
  const now = Date.now();
  const u8 = Buffer.alloc(64);
  const off = Int32Array.of(0, 32);
  const len = new Int32Array(2);
  const KEYS = 600_000;
  for (let i = 0; i < KEYS; i++) {
    len[0] = u8.write(`key:${i}`, 0);
    len[1] = u8.write(`value-${i}-xxxxxxxxxxxxxxxx`, 32);
    wal.command(now, 0, 'set', u8, off, len, 2);
    if (i % 2000 === 1999) wal.flush(false);
  }
  t.ok(wal.closeSegment());
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      path.join(ROOT, 'src/main.ts'),
      '--port',
      String(port),
      '--metrics-port',
      '0',
      '--dir',
      dir,
      '--shards',
      '1',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => proc.kill('SIGKILL'));
  let c = null;
  for (let i = 0; i < 600 && c === null; i++) {
    c = await rawConnect(port).catch(() => null);
    if (c === null) await sleep(20);
  }
  t.ok(c, 'connected while starting');
  let loadingReplies = 0;
  let sawInfo = false;
  for (;;) {
    const reply = await c!.ask(resp('GET', 'key:7'), replies(1));
    if (reply === '-LOADING Redis is loading the dataset in memory\r\n') {
      loadingReplies++;
      if (!sawInfo) {
        const info = await c!.ask(resp('INFO', 'persistence'), replies(1));
        sawInfo = /\r\nloading:1\r\n/.test(info);
      }
      await sleep(20);
      continue;
    }
    t.equal(reply, '$24\r\nvalue-7-xxxxxxxxxxxxxxxx\r\n', 'served once loaded');
    break;
  }
  t.ok(loadingReplies > 0, `-LOADING answered ${loadingReplies} times while loading`);
  t.ok(sawInfo, 'INFO runs during loading and says loading:1');
  t.equal(await c!.ask(resp('DBSIZE'), replies(1)), `:${KEYS}\r\n`);
  t.match(out, /DB loaded from disk: [\d.]+ seconds, 600000 keys/);
  c!.end();
});

function mountTmpfs(dir: string, size: string): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (mounting a small tmpfs needs it)';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `cannot mount a tmpfs: ${r.stderr.trim()}`;
}

/** Fill the file system holding dir; returns the filler's path. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let pos = 0;
  try {
    for (;;) pos += writeSync(fd, chunk, 0, chunk.length, pos);
  } catch {
    // ENOSPC: full (a last partial chunk may have been written)
    for (;;) {
      try {
        pos += writeSync(fd, chunk, 0, 512, pos);
      } catch {
        break;
      }
    }
  }
  closeSync(fd);
  return file;
}

for (const policy of ['always', 'everysec']) {
  t.test(`disk full (appendfsync ${policy}): -MISCONF for writes, reads work, writes resume`, async (t) => {
    const dir = path.join(base, `full-${policy}`);
    mkdirSync(dir);
    const why = mountTmpfs(dir, '4m');
    if (why !== null) {
      t.comment(`skipped: ${why}`);
      t.pass(`skipped: ${why}`);
      return;
    }
    // Whatever fails below, no daemon outlives the test, then the tmpfs goes.
    const daemons: Proc[] = [];
    t.teardown(async () => {
      for (const d of daemons) await d.stop('SIGKILL');
      spawnSync('umount', ['-l', dir]);
    });
    let tes = await startOn(dir, [
      '--shards',
      '1',
      '--appendfsync',
      policy,
      '--auto-aof-rewrite-percentage',
      '0',
    ]);
    daemons.push(tes);
    let r = new Redis({ port: tes.port, maxRetriesPerRequest: 0 });
    for (let i = 0; i < 50; i++) await r.set(`ok:${i}`, `v${i}`);
    const filler = fill(dir);
    // The write that meets the full disk: under always its reply waits until it is durable,
    // and so do later replies on that connection (replies keep their order): another client
    // goes on.
    const w = new Redis({ port: tes.port, maxRetriesPerRequest: 0, lazyConnect: true });
    await w.connect();
    const pending = w.set('first-failed', 'x'.repeat(8192));
    let answered = false;
    pending.then(
      () => (answered = true),
      () => (answered = true),
    );
    await sleep(300);
    if (policy === 'always')
      t.notOk(answered, 'the reply of the write that could not be logged is held back');
    let refused = '';
    for (let i = 0; i < 100 && refused === ''; i++) {
      await r.set(`more:${i}`, 'y'.repeat(8192)).catch((err: Error) => (refused = err.message));
    }
    t.equal(refused, 'MISCONF Errors writing to the AOF file: No space left on device', 'writes refused');
    t.equal(await r.get('ok:7'), 'v7', 'reads keep working');
    await t.rejects(r.ping(), /MISCONF/, 'PING is refused too, as Redis does');
    t.match(await r.info('persistence'), /aof_last_write_status:err/);
    if (policy === 'always') t.notOk(answered, 'still held while the disk is full');
    unlinkSync(filler);
    let resumed = false;
    for (let i = 0; i < 100 && !resumed; i++) {
      resumed = await r.set('after', 'disk is back').then(
        () => true,
        () => false,
      );
      if (!resumed) await sleep(100);
    }
    t.ok(resumed, 'writes resume by themselves');
    t.equal(await pending, 'OK', 'the held write is acknowledged once durable');
    t.match(await r.info('persistence'), /aof_last_write_status:ok/);
    r.disconnect();
    w.disconnect();
    await crash(tes);
    tes = await startOn(dir, ['--shards', '1']);
    daemons.push(tes);
    r = new Redis({ port: tes.port });
    t.equal(await r.get('ok:49'), 'v49');
    t.equal(await r.strlen('first-failed'), 8192, 'the write that met the full disk is there');
    t.equal(await r.get('after'), 'disk is back');
    r.disconnect();
    await tes.stop();
  });
}
