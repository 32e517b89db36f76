/**
 * WAL format: CRC-32C, framing and group commit, torn tails vs corruption in the middle,
 * repair, replay through the shard handlers, and the all-or-nothing decision for multi-shard
 * groups.
 */
import t from 'tap';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  existsSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32c } from '../../src/persistence/crc32c.ts';
import { Wal } from '../../src/persistence/wal.ts';
import { scanSegment } from '../../src/persistence/wal-reader.ts';
import {
  forEachRecord,
  K_CLOCK,
  K_CMD,
  K_GROUP,
  K_PUT,
  parseGroup,
  WAL_HEADER,
} from '../../src/persistence/wal-format.ts';
import { decodeCommand, Replayer } from '../../src/persistence/replay.ts';
import { findSource, RecoveryError, scanSource } from '../../src/persistence/recovery.ts';
import { decideGroups } from '../../src/persistence/groups.ts';
import { segmentPath } from '../../src/persistence/files.ts';
import type { SourceScan } from '../../src/persistence/messages.ts';
import { RequestView } from '../../src/router/frames.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { exec, shardContext } from '../helpers/shard-exec.ts';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'tessera-wal-'));

function view(...args: string[]): RequestView {
  const v = new RequestView();
  const bufs = args.map((a) => Buffer.from(a));
  v.u8 = Buffer.concat(bufs);
  let p = 0;
  bufs.forEach((b, i) => {
    v.off[i] = p;
    v.len[i] = b.length;
    p += b.length;
  });
  v.argc = args.length;
  return v;
}

function logSet(wal: Wal, now: number, key: string, value: string): void {
  const v = view(key, value);
  wal.command(now, 0, 'set', v.u8, v.off, v.len, v.argc);
}

/** Every top-level record of a segment as [kind, decoded]. */
function records(file: string): [number, unknown][] {
  const out: [number, unknown][] = [];
  scanSegment(file, (b, s, e) =>
    forEachRecord(b, s, e, (kind, bb, rs, re) => {
      if (kind === K_CMD) {
        const v = new RequestView();
        const name = decodeCommand(bb, rs, re, v);
        out.push([kind, [v.db, name, ...Array.from({ length: v.argc }, (_, i) => v.str(i))]]);
      } else if (kind === K_GROUP) out.push([kind, parseGroup(bb, rs, re)]);
      else out.push([kind, null]);
    }),
  );
  return out;
}

t.test('crc32c: check value, chaining, slicing path', async (t) => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'CRC-32C check value');
  t.equal(crc32c(Buffer.from('56789'), 0, 5, crc32c(Buffer.from('1234'))), 0xe3069283, 'chains');
  const big = Buffer.alloc(1000, 7);
  let byByte = 0;
  for (let i = 0; i < big.length; i++) byByte = crc32c(big, i, i + 1, byByte);
  t.equal(crc32c(big), byByte, '8-byte slices agree with the byte loop');
  t.equal(crc32c(Buffer.alloc(0)), 0);
});

t.test('records, frames and group commit round-trip', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wal = new Wal(dir, 0, 1);
  wal.openSegment(1);
  logSet(wal, 1000, 'a', '1');
  logSet(wal, 1000, 'b', 'x'.repeat(70_000));
  t.ok(wal.flush(true), 'first group commit');
  const afterFirst = wal.written;
  wal.argv(2000, 3, ['INCRBY', 'n', Buffer.from('5')]);
  wal.del(2000, 3, Buffer.from('gone'), 0, 4);
  wal.put(2000, 1, Buffer.from('p'), 0, Buffer.from('pv'), 0, 0);
  wal.beginGroup(2000, 7, 42, [0, 1]);
  logSet(wal, 2000, 'g1', 'v');
  t.ok(wal.flush(false), 'flush with an open group writes what precedes it');
  t.equal(wal.inGroup, true, 'group still open');
  logSet(wal, 2000, 'g2', 'v');
  wal.endGroup();
  t.ok(wal.flush(true));
  t.ok(wal.written > afterFirst);
  const file = segmentPath(dir, 0, 1, 1);
  const scan = scanSegment(file, null);
  t.same(scan.end, { status: 'ok' });
  t.equal(scan.frames, 3, 'one frame per flush');
  const recs = records(file);
  t.same(
    recs.map((r) => r[0]),
    [K_CLOCK, K_CMD, K_CMD, K_CLOCK, K_CMD, K_CMD, K_PUT, K_GROUP],
    'kinds in order; the clock stays outside the group',
  );
  t.same(recs[1]![1], [0, 'set', 'a', '1']);
  t.same(recs[4]![1], [3, 'incrby', 'n', '5'], 'argv names are logged in lower case');
  t.same(recs[5]![1], [3, 'del', 'gone']);
  const g = recs[7]![1] as { epoch: number; gid: number; participants: number[] };
  t.same([g.epoch, g.gid, g.participants], [7, 42, [0, 1]]);
});

t.test('replay runs the records through the shard handlers at their clock', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wal = new Wal(dir, 0, 1);
  wal.openSegment(1);
  const t0 = Date.now() - 10_000;
  wal.argv(t0, 0, ['set', 'k', 'v', 'PXAT', String(t0 + 5000)]);
  // At the original time the key was alive: APPEND extends it (its TTL stays).
  wal.argv(t0 + 1000, 0, ['append', 'k', 'w']);
  wal.argv(t0 + 1000, 0, ['incr', 'n']);
  wal.argv(t0 + 1000, 0, ['incrby', 'n', '41']);
  wal.beginGroup(t0 + 1000, 1, 9, [0, 1]);
  wal.argv(t0 + 1000, 0, ['set', 'skipped', '1']);
  wal.endGroup();
  wal.beginGroup(t0 + 1000, 1, 10, [0, 1]);
  wal.argv(t0 + 1000, 0, ['set', 'kept', '1']);
  wal.endGroup();
  t.ok(wal.flush(true));
  const ks = new Keyspace(4);
  const replay = new Replayer(shardContext(ks), ks, new Set(['1:9']));
  scanSegment(segmentPath(dir, 0, 1, 1), (b, s, e) => replay.frame(b, s, e));
  t.equal(replay.errorCount, 0, replay.errors.join('; '));
  t.equal(replay.skippedGroups, 1);
  const c = shardContext(ks);
  ks.now = t0 + 2000;
  t.equal(exec(c, 0, 'get', 'k'), '$2\r\nvw\r\n', 'APPEND applied to the live key');
  t.equal(exec(c, 0, 'pexpiretime', 'k'), `:${t0 + 5000}\r\n`, 'absolute expiry kept');
  t.equal(exec(c, 0, 'get', 'n'), '$2\r\n42\r\n');
  t.equal(exec(c, 0, 'exists', 'skipped'), ':0\r\n', 'incomplete group left out');
  t.equal(exec(c, 0, 'exists', 'kept'), ':1\r\n');
});

function twoFrameSegment(dir: string, seq = 1): { file: string; firstFrameEnd: number } {
  const wal = new Wal(dir, 0, 1);
  wal.openSegment(seq);
  logSet(wal, 1, 'a', '1');
  wal.flush(true);
  const firstFrameEnd = wal.written;
  logSet(wal, 1, 'b', '2');
  wal.flush(true);
  return { file: segmentPath(dir, 0, 1, seq), firstFrameEnd };
}

t.test('torn tail: a cut last frame or trailing zeros', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, firstFrameEnd } = twoFrameSegment(dir);
  const size = readFileSync(file).length;
  truncateSync(file, size - 3);
  let scan = scanSegment(file, null);
  t.equal(scan.end.status, 'torn');
  t.equal((scan.end as { offset: number }).offset, firstFrameEnd, 'at the start of the unfinished frame');
  t.equal(scan.frames, 1);
  truncateSync(file, firstFrameEnd);
  appendFileSync(file, Buffer.alloc(4096));
  scan = scanSegment(file, null);
  t.equal(scan.end.status, 'torn', 'zeros after the last frame');
  truncateSync(file, firstFrameEnd + 5);
  scan = scanSegment(file, null);
  t.equal(scan.end.status, 'torn', 'partial frame header');
});

t.test('corruption in the middle is not a torn tail; repair cuts there', async (t) => {
  const dir = tmp();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file } = twoFrameSegment(dir, 1);
  twoFrameSegment(dir, 2);
  const b = readFileSync(file);
  b[WAL_HEADER + 12] ^= 0xff; // inside the first frame's payload
  writeFileSync(file, b);
  const scan = scanSegment(file, null);
  t.equal(scan.end.status, 'corrupt');
  t.equal((scan.end as { offset: number }).offset, WAL_HEADER);
  t.match((scan.end as { reason: string }).reason, /checksum/);

  // The last frame damaged with nothing valid after it: a torn write, not corruption.
  const dir2 = tmp();
  t.teardown(() => rmSync(dir2, { recursive: true, force: true }));
  const two = twoFrameSegment(dir2);
  const b2 = readFileSync(two.file);
  b2[b2.length - 2] ^= 0xff;
  writeFileSync(two.file, b2);
  t.equal(scanSegment(two.file, null).end.status, 'torn');

  const opts = { dir, own: true, repair: false, warn: () => {} };
  t.throws(() => scanSource(findSource(dir, 0, 1), opts), /bad WAL record/);
  try {
    scanSource(findSource(dir, 0, 1), opts);
  } catch (err) {
    t.ok(err instanceof RecoveryError);
    t.match((err as Error).message, new RegExp(`s0of1\\.1\\.wal: bad WAL record at offset ${WAL_HEADER}`));
  }
  const warnings: string[] = [];
  const src = findSource(dir, 0, 1);
  scanSource(src, { ...opts, repair: true, warn: (m) => warnings.push(m) });
  t.equal(readFileSync(file).length, WAL_HEADER, 'cut at the bad record');
  t.ok(existsSync(segmentPath(dir, 0, 1, 2) + '.bad'), 'later segment set aside');
  t.equal(src.segs.length, 1);
  t.match(warnings.join('\n'), /repairing/);
});

t.test('multi-shard groups: complete, incomplete, snapshot watermark, decided epochs', async (t) => {
  const scan = (
    source: number,
    groups: [number, number, number[]][],
    watermark: SourceScan['watermark'] = null,
  ) => [source, { source, groups, watermark }] as const;
  // Epoch 5 is the crashed run (manifest epoch); epoch 3 was decided at an earlier start.
  const scans = new Map<number, SourceScan>([
    scan(0, [
      [5, 1, [0, 1]],
      [5, 2, [0, 1]],
      [5, 3, [0, 1]],
      [3, 7, [0, 1]],
      [3, 8, [0, 1]],
    ]),
    scan(1, [[5, 1, [0, 1]]], { epoch: 5, maxGid: 2 }),
  ]);
  const { skip } = decideGroups(scans, { version: 1, shards: 2, epoch: 5, skip: ['3:8'] });
  t.notOk(skip.has('5:1'), 'both logged it');
  t.notOk(skip.has('5:2'), "inside shard 1's snapshot");
  t.ok(skip.has('5:3'), 'shard 1 never logged it');
  t.notOk(skip.has('3:7'), 'decided complete earlier');
  t.ok(skip.has('3:8'), 'decided incomplete earlier');
});
