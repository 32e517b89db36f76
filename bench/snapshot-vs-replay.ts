/**
 * node bench/snapshot-vs-replay.ts [--keys 1000000] [--hashes 100000] [--fields 10]
 *
 * In-process timing of a shard's recovery with the recovery code itself (no server, no other
 * threads): from a WAL of `keys` SETs (16-byte keys, 32-byte values) and `hashes` HSETs of
 * `fields` fields (checking pass, replay, expired-key sweep), then writing a snapshot of the
 * result in one go (what a clean shutdown does) and recovering from that snapshot alone.
 * Prints the numbers; asserts nothing.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { modified, propagate } from '../src/commands/modified.ts';
import type { ShardContext } from '../src/commands/types.ts';
import { SlowLog } from '../src/observability/slowlog.ts';
import { RespWriter } from '../src/protocol/writer.ts';
import { dropExpired, findSource, loadSource, scanSource } from '../src/persistence/recovery.ts';
import { SnapshotWriter } from '../src/persistence/snapshot.ts';
import { snapshotPath } from '../src/persistence/files.ts';
import { Wal } from '../src/persistence/wal.ts';
import { RequestView } from '../src/router/frames.ts';
import { Keyspace } from '../src/store/keyspace.ts';

const { values: opts } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    hashes: { type: 'string', default: '100000' },
    fields: { type: 'string', default: '10' },
  },
});
const KEYS = Number(opts.keys);
const HASHES = Number(opts.hashes);
const FIELDS = Number(opts.fields);

function context(ks: Keyspace): ShardContext {
  return {
    ks,
    req: new RequestView(),
    out: new RespWriter(),
    shardId: 0,
    maxBulkLen: 512 * 1024 * 1024,
    slowlog: new SlowLog(),
    notifyFlags: 0,
    events: [],
    modified,
    propagate,
    propagated: [],
  };
}

/** What runRecovery() does for one shard with its own files (no groups to skip). */
function recover(dir: string, ks: Keyspace): { commands: number } {
  const src = findSource(dir, 0, 1);
  scanSource(src, { dir, own: true, repair: false, warn: () => {} });
  const r = loadSource(src, dir, ks, context(ks), new Set(), null);
  dropExpired(ks);
  return r;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-snapbench-'));
try {
  // 1. A WAL as a server would have logged it (one frame per 1000 commands, like a pipelined load).
  const wal = new Wal(dir, 0, 1);
  wal.openSegment(1);
  const now = Date.now();
  const u8 = Buffer.alloc(64 * (2 + 2 * FIELDS));
  const off = new Int32Array(1 + 2 * FIELDS);
  const len = new Int32Array(1 + 2 * FIELDS);
  const arg = (i: number, s: string): void => {
    off[i] = i * 64;
    len[i] = u8.write(s, i * 64, 'latin1');
  };
  for (let i = 0; i < KEYS; i++) {
    arg(0, `key:${String(i).padStart(12, '0')}`);
    arg(1, `value:${String(i).padStart(26, '0')}`);
    wal.command(now, 0, 'set', u8, off, len, 2);
    if (i % 1000 === 999) wal.flush(false);
  }
  for (let i = 0; i < HASHES; i++) {
    arg(0, `hash:${String(i).padStart(11, '0')}`);
    for (let f = 0; f < FIELDS; f++) {
      arg(1 + 2 * f, `field:${f}`);
      arg(2 + 2 * f, `value:${String(i).padStart(10, '0')}:${f}`);
    }
    wal.command(now, 0, 'hset', u8, off, len, 1 + 2 * FIELDS);
    if (i % 1000 === 999) wal.flush(false);
  }
  wal.closeSegment();
  const walBytes = statSync(path.join(dir, 's0of1.1.wal')).size;

  // 2. Recover from it as a shard does: checking pass, replay, expired keys dropped.
  let ks = new Keyspace(16);
  let t0 = performance.now();
  const r = recover(dir, ks);
  const replayMs = performance.now() - t0;

  // 3. Write a snapshot of that keyspace in one go (shutdown snapshot), to the page cache.
  const snapDir = path.join(dir, 'snap');
  mkdirSync(snapDir);
  const file = snapshotPath(snapDir, 0, 1, 2);
  const fd = openSync(file, 'w');
  t0 = performance.now();
  const w = new SnapshotWriter(
    ks,
    fd,
    { shard: 0, shards: 1, walSeq: 2, created: Date.now() },
    { epoch: 1, maxGid: 0 },
  );
  while (!w.step(Infinity));
  const snapBytes = w.finish();
  const writeMs = performance.now() - t0;
  closeSync(fd);

  // 4. Recover from the snapshot alone into a fresh keyspace.
  const keys = ks.keyCount(0);
  ks = new Keyspace(16);
  t0 = performance.now();
  recover(snapDir, ks);
  const loadMs = performance.now() - t0;
  if (ks.keyCount(0) !== keys) throw new Error(`loaded ${ks.keyCount(0)} keys, expected ${keys}`);

  const mb = (b: number): string => (b / 1048576).toFixed(1);
  console.log(`data: ${KEYS} strings + ${HASHES} hashes x ${FIELDS} fields = ${keys} keys`);
  console.log(
    `recovery by WAL replay: ${replayMs.toFixed(0)} ms  (${r.commands} commands, ${mb(walBytes)} MB, ${((replayMs * 1000) / r.commands).toFixed(2)} us/command)`,
  );
  console.log(`snapshot write (one go): ${writeMs.toFixed(0)} ms  (${mb(snapBytes)} MB)`);
  console.log(
    `recovery from the snapshot: ${loadMs.toFixed(0)} ms  (${((loadMs * 1000) / keys).toFixed(2)} us/key)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
