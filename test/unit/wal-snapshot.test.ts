/**
 * Snapshots: round trip of every registered data type (strings with their TTL and encoding
 * byte, and collections through StoreObject.dump()/restoreObject), expired keys dropped at
 * load, damaged files refused, and the fork-less copy-on-write: a snapshot taken while the
 * keyspace keeps changing — tables resized between its slices included — is exactly the state
 * when it started.
 */
import t from 'tap';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSnapshot, SnapshotWriter, verifySnapshot } from '../../src/persistence/snapshot.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { ENCODING, KEY_OFF, TYPE_STRING } from '../../src/store/record.ts';
import { exec, hasCommand, shardContext } from '../helpers/shard-exec.ts';

const DBS = 4;

/** Everything observable about a keyspace: db → key → [type, expireAt, encoding, value or dump]. */
function contents(ks: Keyspace): Map<string, unknown[]> {
  const m = new Map<string, unknown[]>();
  for (let db = 0; db < DBS; db++) {
    ks.table(db).forEach((h) => {
      const ko = ks.arena.base(h) + KEY_OFF;
      const key = Buffer.from(ks.arena.u8(h).subarray(ko, ko + ks.keyLength(h))).toString('latin1');
      const type = ks.type(h);
      let value: unknown;
      if (type === TYPE_STRING) {
        const vo = ks.valueOffset(h);
        value = Buffer.from(ks.arena.u8(h).subarray(vo, vo + ks.valueLength(h))).toString('latin1');
      } else
        value = ks
          .getObject(h)
          .dump()
          .map((x) => Buffer.from(x).toString('latin1'));
      const enc =
        type === TYPE_STRING ? ks.arena.u8(h)[ks.arena.base(h) + ENCODING] : ks.getObject(h).encoding();
      m.set(`${db}/${key}`, [type, ks.getExpire(h), enc, value]);
    });
  }
  return m;
}

function snapshotTo(file: string, ks: Keyspace, during?: (w: SnapshotWriter) => void): SnapshotWriter {
  const fd = openSync(file, 'w');
  const w = new SnapshotWriter(
    ks,
    fd,
    { shard: 0, shards: 1, walSeq: 3, created: Date.now() },
    { epoch: 9, maxGid: 4 },
  );
  ks.snapshot = w;
  if (during !== undefined) during(w);
  while (!w.step(performance.now() + 50));
  w.finish();
  ks.snapshot = null;
  closeSync(fd);
  return w;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-snap-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function fill(ks: Keyspace): void {
  const c = shardContext(ks);
  ks.now = Date.now();
  exec(c, 0, 'set', 's1', 'value');
  exec(c, 0, 'set', 'num', '12345');
  exec(c, 0, 'set', 'big', 'z'.repeat(300_000));
  exec(c, 0, 'set', 'bin\0key', Buffer.from([0, 255, 13, 10]));
  exec(c, 0, 'set', 'ttl', 'v', 'PX', '100000');
  exec(c, 0, 'append', 'raw', 'abc');
  exec(c, 0, 'incrbyfloat', 'f', '1.5');
  exec(c, 2, 'set', 's1', 'other db');
  if (hasCommand('hset')) {
    exec(c, 0, 'hset', 'h', 'f1', 'v1', 'f2', 'v2');
    const args: string[] = [];
    for (let i = 0; i < 300; i++) args.push(`field${i}`, `v${i}`);
    exec(c, 1, 'hset', 'bighash', ...args);
  }
  if (hasCommand('sadd')) {
    exec(c, 0, 'sadd', 'set', 'a', 'b', 'c');
    exec(c, 0, 'sadd', 'intset', '1', '2', '3');
  }
  if (hasCommand('rpush')) exec(c, 0, 'rpush', 'list', 'x', 'y', 'z', 'x');
  if (hasCommand('zadd')) exec(c, 0, 'zadd', 'z', '1', 'one', '2.5', 'two', '-inf', 'low');
  if (hasCommand('pexpire') && hasCommand('hset')) exec(c, 0, 'pexpire', 'h', '500000');
}

t.test('round trip of every registered type', async (t) => {
  const ks = new Keyspace(DBS);
  fill(ks);
  const file = path.join(dir, 'rt.snap');
  const w = snapshotTo(file, ks);
  t.equal(w.keys, contents(ks).size, 'every key written once');
  t.equal(verifySnapshot(file), null);
  const ks2 = new Keyspace(DBS);
  const r = loadSnapshot(file, ks2, Date.now(), null);
  t.same(r.header, { shard: 0, shards: 1, walSeq: 3, created: r.header.created });
  const perDb = [0, 1, 2, 3].map((db) => ks.keyCount(db));
  t.same(r.meta, { epoch: 9, maxGid: 4, keys: perDb }, 'META: watermark and keys per db');
  t.ok(ks2.table(0).capacity >= ks.table(0).size, 'the index was sized from the key counts');
  t.same(contents(ks2), contents(ks), 'identical keyspace after load');
  t.comment(
    `types: hash ${hasCommand('hset')}, set ${hasCommand('sadd')}, list ${hasCommand('rpush')}, zset ${hasCommand('zadd')}`,
  );
});

t.test('expired keys are dropped at load; a filter keeps some slots only', async (t) => {
  const ks = new Keyspace(DBS);
  const c = shardContext(ks);
  ks.now = Date.now() - 60_000;
  exec(c, 0, 'set', 'old', 'v', 'PX', '1000');
  exec(c, 0, 'set', 'keep', 'v');
  const file = path.join(dir, 'exp.snap');
  snapshotTo(file, ks);
  const ks2 = new Keyspace(DBS);
  const r = loadSnapshot(file, ks2, Date.now(), null);
  t.equal(r.keys, 1);
  t.equal(r.expired, 1);
  const ks3 = new Keyspace(DBS);
  const r3 = loadSnapshot(
    file,
    ks3,
    Date.now(),
    (u8, off, len) => Buffer.from(u8.subarray(off, off + len)).toString() !== 'keep',
  );
  t.equal(r3.keys, 0, 'filtered out');
});

t.test('a damaged snapshot is refused, naming the offset', async (t) => {
  const ks = new Keyspace(DBS);
  fill(ks);
  const file = path.join(dir, 'bad.snap');
  snapshotTo(file, ks);
  const b = readFileSync(file);
  b[200] ^= 0x40;
  writeFileSync(file, b);
  t.match(verifySnapshot(file), /checksum mismatch at offset/);
  t.throws(() => loadSnapshot(file, new Keyspace(DBS), Date.now(), null), /checksum mismatch at offset \d+/);
  writeFileSync(file, readFileSync(file).subarray(0, 100));
  t.match(verifySnapshot(file), /runs past the end|no END block/);
});

t.test('copy-on-write: the snapshot is the state when it started', async (t) => {
  const ks = new Keyspace(DBS);
  const c = shardContext(ks);
  ks.now = Date.now();
  for (let i = 0; i < 5000; i++) exec(c, i % 2, 'set', `k${i}`, `v${i}`);
  if (hasCommand('hset')) for (let i = 0; i < 50; i++) exec(c, 0, 'hset', `h${i}`, 'a', '1', 'b', '2');
  const before = contents(ks);
  const file = path.join(dir, 'cow.snap');
  snapshotTo(file, ks, (w) => {
    w.step(0); // a first slice only
    for (let i = 0; i < 5000; i += 7) exec(c, i % 2, 'set', `k${i}`, 'changed');
    for (let i = 3; i < 5000; i += 11) exec(c, i % 2, 'del', `k${i}`);
    for (let i = 0; i < 500; i++) exec(c, 0, 'set', `new${i}`, 'x');
    for (let i = 5; i < 5000; i += 13) exec(c, i % 2, 'append', `k${i}`, '+');
    if (hasCommand('hset'))
      for (let i = 0; i < 50; i += 3) exec(c, 0, 'hset', `h${i}`, 'a', 'changed', 'c', '3');
    exec(c, 0, 'move', 'k0', '3');
    w.step(performance.now() + 1);
    for (let i = 1; i < 5000; i += 17) exec(c, i % 2, 'set', `k${i}`, 'late');
  });
  const ks2 = new Keyspace(DBS);
  loadSnapshot(file, ks2, Date.now(), null);
  t.same(contents(ks2), before, 'exactly the state at the start');
  t.not(contents(ks).size, before.size, 'while the live keyspace moved on');
});

t.test('copy-on-write while a table is resized between slices', async (t) => {
  for (const change of ['shrinks', 'grows']) {
    const ks = new Keyspace(DBS);
    const c = shardContext(ks);
    ks.now = Date.now();
    for (let i = 0; i < 3000; i++) exec(c, 0, 'set', `k${i}`, `v${i}`);
    const before = contents(ks);
    const layout = ks.table(0).layout;
    const file = path.join(dir, `cow-${change}.snap`);
    snapshotTo(file, ks, (w) => {
      w.step(0); // part of db 0 only
      if (change === 'shrinks') {
        // Keys deleted are written out first; the survivors move to a smaller array, where
        // many land in slots the walk has passed already.
        for (let i = 0; i < 3000; i++) if (i % 30 !== 0) exec(c, 0, 'del', `k${i}`);
      } else {
        for (let i = 0; i < 40_000; i++) exec(c, 0, 'set', `new${i}`, 'x');
        for (let i = 0; i < 3000; i += 5) exec(c, 0, 'set', `k${i}`, 'changed');
      }
    });
    t.not(ks.table(0).layout, layout, `the table ${change === 'shrinks' ? 'shrank' : 'grew'} meanwhile`);
    const ks2 = new Keyspace(DBS);
    const r = loadSnapshot(file, ks2, Date.now(), null);
    t.equal(r.keys, before.size, `${change}: every key once`);
    t.same(contents(ks2), before, `${change}: exactly the state at the start`);
  }
});

t.test('a snapshot larger than the read window: collections keep their own copies', async (t) => {
  const ks = new Keyspace(DBS);
  const c = shardContext(ks);
  ks.now = Date.now();
  const member = (i: number, j: number): string => `${i}:${j}:${'m'.repeat(90)}`;
  // ~12 MB: the loader's 4 MiB window is refilled several times under the restored values.
  for (let i = 0; i < 4000; i++) {
    const members = Array.from({ length: 10 }, (_, j) => member(i, j));
    if (hasCommand('sadd')) exec(c, 0, 'sadd', `set${i}`, ...members);
    if (hasCommand('rpush')) exec(c, 0, 'rpush', `list${i}`, ...members);
    if (hasCommand('hset'))
      exec(c, 0, 'hset', `hash${i}`, ...members.flatMap((m, j) => [`f${j}`, m.slice(0, 60)]));
    if (hasCommand('zadd')) exec(c, 0, 'zadd', `zset${i}`, ...members.flatMap((m, j) => [String(j), m]));
    exec(c, 0, 'set', `str${i}`, member(i, 99));
  }
  if (hasCommand('hset')) {
    // Hashtable encodings: past 512 fields, and a value past 64 bytes.
    exec(c, 1, 'hset', 'wide', ...Array.from({ length: 600 }, (_, j) => [`f${j}`, `v${j}`]).flat());
    exec(c, 1, 'hset', 'long', 'f', 'x'.repeat(100), 'g', 'y');
  }
  const file = path.join(dir, 'big.snap');
  snapshotTo(file, ks);
  const ks2 = new Keyspace(DBS);
  loadSnapshot(file, ks2, Date.now(), null);
  t.same(contents(ks2), contents(ks), 'identical keyspace after load');
});
