/**
 * What a clean shutdown leaves on disk (persistence/shutdown-save.ts): with a WAL worth
 * replacing, SIGTERM takes a snapshot and the WAL segments it covers are deleted; a snapshot
 * running at SHUTDOWN is finished before the shard exits; SHUTDOWN SAVE always takes one;
 * SHUTDOWN NOSAVE and a small WAL leave the WAL as it was; SIGKILL in the middle of a
 * snapshot loses nothing. Every case restarts and checks every key.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crash, dataFiles, startOn } from '../helpers/persist.ts';
import { countReplies, rawConnect, resp } from '../helpers/raw.ts';
import type { Proc } from '../helpers/server.ts';
import type { TT } from '../helpers/raw.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'tessera-persist-shutdown-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => path.join(base, `d${n++}`);
const VALUE = 'v'.repeat(40);

/** `count` SETs (key i → `${i}:${VALUE}`), pipelined: ~75 WAL bytes each. */
async function load(port: number, count: number, prefix = 'k'): Promise<void> {
  const r = new Redis({ port, maxRetriesPerRequest: 0 });
  for (let i = 0; i < count; i += 5000) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(count, i + 5000); j++) p.set(`${prefix}:${j}`, `${j}:${VALUE}`);
    await p.exec();
  }
  r.disconnect();
}

/** Restart on dir and check that the `count` keys of load() and `extra` are all there. */
async function checkRestart(
  t: TT,
  dir: string,
  flags: string[],
  count: number,
  extra: Record<string, string> = {},
): Promise<Proc> {
  const tes = await startOn(dir, [...flags, '--loglevel', 'notice']);
  const r = new Redis({ port: tes.port });
  t.equal(await r.dbsize(), count + Object.keys(extra).length, 'every key after the restart');
  const keys = Array.from({ length: 200 }, (_, i) => `k:${Math.floor((i * count) / 200)}`);
  const got = await r.mget(...keys);
  t.ok(
    got.every((v, i) => v === `${keys[i]!.slice(2)}:${VALUE}`),
    'values intact',
  );
  for (const [k, v] of Object.entries(extra)) t.equal(await r.get(k), v, `${k} kept`);
  r.disconnect();
  return tes;
}

/** Per shard: the snapshot's sequence number (or null) and the sequences of its WAL segments. */
function layout(dir: string, shards: number): { snap: number | null; wals: number[] }[] {
  const files = dataFiles(dir);
  return Array.from({ length: shards }, (_, i) => {
    const mine = files.filter((f) => f.startsWith(`s${i}of${shards}.`));
    const seq = (f: string): number => Number(f.split('.')[1]);
    const snaps = mine.filter((f) => f.endsWith('.snap')).map(seq);
    return {
      snap: snaps.length > 0 ? Math.max(...snaps) : null,
      wals: mine.filter((f) => f.endsWith('.wal')).map(seq),
    };
  });
}

async function exitCode(tes: Proc, how: 'SIGTERM' | Buffer): Promise<number | null> {
  const exited = new Promise<number | null>((r) => tes.proc.once('exit', (code) => r(code)));
  if (how === 'SIGTERM') tes.proc.kill('SIGTERM');
  else (await rawConnect(tes.port)).write(how);
  return exited;
}

t.test('SIGTERM with a large WAL: a snapshot replaces it, the restart loads it', async (t) => {
  const dir = newDir();
  const flags = ['--shards', '2'];
  let tes = await startOn(dir, [...flags, '--loglevel', 'notice']);
  const count = 40_000; // ~1.5 MB of WAL per shard: past the 1 MiB floor
  await load(tes.port, count);
  const r = new Redis({ port: tes.port });
  await r.set('ttl', 'x', 'EX', 1000);
  r.disconnect();
  t.same(
    layout(dir, 2).map((s) => s.snap),
    [null, null],
    'no snapshot before the shutdown',
  );
  t.equal(await exitCode(tes, 'SIGTERM'), 0, 'clean exit');
  const out = tes.output();
  t.equal(
    out.match(
      /shutdown: took a snapshot \(WAL since the last one: [\d.]+ MB\): \d+ keys, [\d.]+ MB, in \d+ ms/g,
    )?.length,
    2,
    'each shard took one and logged how long',
  );
  t.match(out, /"msg":"bye"/);
  for (const [i, s] of layout(dir, 2).entries()) {
    t.ok(s.snap !== null, `shard ${i}: snapshot on disk`);
    t.ok(
      s.wals.every((w) => w >= s.snap!),
      `shard ${i}: the WAL segments it covers are deleted (${s.wals})`,
    );
    for (const w of s.wals)
      t.equal(
        statSync(path.join(dir, `s${i}of2.${w}.wal`)).size,
        32,
        `shard ${i}: WAL ${w} holds only its header`,
      );
  }
  await tes.stop(); // (already exited: removes the helper's own temp dir)
  tes = await checkRestart(t, dir, flags, count, { ttl: 'x' });
  const r2 = new Redis({ port: tes.port });
  const ttl = await r2.ttl('ttl');
  t.ok(ttl > 900, `TTL kept (${ttl})`);
  r2.disconnect();
  await tes.stop();
});

t.test('a snapshot running at SHUTDOWN is finished before the shard exits', async (t) => {
  const dir = newDir();
  // No automatic snapshots: the shutdown must finish the BGSAVE, not replace it.
  const flags = ['--shards', '1', '--auto-aof-rewrite-percentage', '0'];
  const tes = await startOn(dir, [...flags, '--loglevel', 'notice']);
  const count = 100_000;
  await load(tes.port, count);
  // One write: the snapshot starts (the shard picks the request up within ~10 ms) and the
  // shutdown follows at once, long before 100k keys are written out in 2 ms slices.
  const code = await exitCode(
    tes,
    Buffer.concat([resp('BGSAVE'), resp('SET', 'after', 'bgsave'), resp('SHUTDOWN')]),
  );
  t.equal(code, 0);
  t.match(tes.output(), /shutdown: finished the running snapshot: \d+ keys, [\d.]+ MB, in \d+ ms/);
  const [s] = layout(dir, 1);
  t.equal(s!.snap, 2, 'the snapshot of segment 2 is on disk');
  t.same(s!.wals, [2], 'segment 1, which it covers, is deleted');
  await tes.stop();
  const again = await checkRestart(t, dir, flags, count, { after: 'bgsave' });
  await again.stop();
});

t.test('SHUTDOWN NOSAVE and a small WAL keep the WAL; SHUTDOWN SAVE always snapshots', async (t) => {
  const dir = newDir();
  const flags = ['--shards', '1'];
  let tes = await startOn(dir, [...flags, '--loglevel', 'notice']);
  const count = 30_000; // ~2.2 MB
  await load(tes.port, count);
  t.equal(await exitCode(tes, resp('SHUTDOWN', 'NOSAVE')), 0);
  t.notMatch(tes.output(), /shutdown: /, 'NOSAVE: no snapshot work');
  t.same(layout(dir, 1), [{ snap: null, wals: [1] }], 'NOSAVE: only the WAL, as before');
  await tes.stop();

  // Nothing written in this run, but a restart would replay the whole inherited WAL.
  tes = await checkRestart(t, dir, flags, count);
  t.equal(await exitCode(tes, resp('SHUTDOWN')), 0);
  t.match(tes.output(), /shutdown: took a snapshot/, 'the inherited WAL is snapshotted');
  const [first] = layout(dir, 1);
  t.ok(first!.snap !== null && first!.wals.every((w) => w >= first!.snap!), 'covered WAL deleted');
  await tes.stop();

  // A few writes since that snapshot: far below what is worth a new one.
  tes = await checkRestart(t, dir, flags, count);
  const r = new Redis({ port: tes.port });
  await r.set('small', '1');
  r.disconnect();
  t.equal(await exitCode(tes, 'SIGTERM'), 0);
  t.notMatch(tes.output(), /shutdown: /, 'small WAL: no snapshot');
  const [second] = layout(dir, 1);
  t.equal(second!.snap, first!.snap, 'the same snapshot');
  t.ok(second!.wals.length > first!.wals.length, 'the new segment stays');
  await tes.stop();

  tes = await checkRestart(t, dir, flags, count, { small: '1' });
  t.equal(await exitCode(tes, resp('SHUTDOWN', 'SAVE')), 0);
  t.match(tes.output(), /shutdown: took a snapshot/, 'SAVE: a snapshot however small the WAL');
  const [third] = layout(dir, 1);
  t.ok(third!.snap! > second!.snap!, 'a newer snapshot');
  t.ok(
    third!.wals.every((w) => w >= third!.snap!),
    'the WAL it covers is deleted',
  );
  await tes.stop();
  tes = await checkRestart(t, dir, flags, count, { small: '1' });
  await tes.stop();
});

t.test('SIGKILL in the middle of a snapshot loses nothing', async (t) => {
  const dir = newDir();
  const flags = ['--shards', '1'];
  const tes = await startOn(dir, flags);
  const count = 100_000;
  await load(tes.port, count);
  const c = await rawConnect(tes.port);
  c.write(Buffer.concat([resp('BGSAVE'), resp('SET', 'after', 'bgsave')]));
  await c.until((b) => countReplies(b) >= 2); // the SET is acknowledged
  // Kill while the snapshot's temp file is being written.
  const writing = (): boolean => readdirSync(dir).some((f) => f.endsWith('.snap.tmp'));
  for (let i = 0; i < 500 && !writing(); i++) await new Promise((r) => setTimeout(r, 2));
  t.ok(writing(), 'killed in the middle of the snapshot');
  await crash(tes);
  await tes.stop();
  const again = await checkRestart(t, dir, flags, count, { after: 'bgsave' });
  await again.stop();
});
