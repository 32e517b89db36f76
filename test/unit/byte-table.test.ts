/**
 * ByteTable (the hashtable encoding's storage) against a Map model under random operations
 * sized to reach what the hash-level tests rarely do: table growth and shrinking, backward-shift
 * deletion in long probe runs (few hash bits via many keys), values that grow (entry moved to
 * the end of the store) or shrink, compaction of the byte store, clone(), and emptying; and the
 * incremental index resize: every kind of operation while entries sit in both the old and the new
 * index, and a resize that starts while a migration is still running (tiny migration steps).
 */
import t from 'tap';
import fc from 'fast-check';
import { ByteTable, tuning } from '../../src/store/types/byte-table.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (u8: Uint8Array, off: number, len: number): string =>
  Buffer.from(u8.subarray(off, off + len)).toString('latin1');

function check(tb: ByteTable, model: Map<string, string>): void {
  if (tb.size !== model.size) throw new Error(`size ${tb.size} != ${model.size}`);
  let live = 0;
  const seen = new Set<string>();
  for (let i = 0; i < tb.size; i++) {
    const k = str(tb.data, tb.keyOff(i), tb.keyLen(i));
    const v = str(tb.data, tb.valOff(i), tb.valLen(i));
    if (model.get(k) !== v) throw new Error(`entry ${i} ${JSON.stringify(k)}`);
    if (seen.has(k)) throw new Error('duplicate');
    seen.add(k);
    live += k.length + v.length;
  }
  if (tb.liveBytes() !== live) throw new Error(`live ${tb.liveBytes()} != ${live}`);
  for (const [k, v] of model) {
    const i = tb.find(b(k), 0, k.length);
    if (i < 0 || str(tb.data, tb.valOff(i), tb.valLen(i)) !== v) throw new Error(`find ${JSON.stringify(k)}`);
  }
  if (tb.bytes() < live) throw new Error('bytes() below the payload');
}

type Op =
  { t: 'set'; k: number; v: number } | { t: 'del'; k: number } | { t: 'bulk'; n: number; drop: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.nat(3000), v: fc.nat(300) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), k: fc.nat(3000) }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('bulk' as const), n: fc.nat(3000), drop: fc.boolean() }),
  },
);

function modelRun(ops: Op[]): void {
  const tb = new ByteTable();
  const model = new Map<string, string>();
  const set = (k: string, v: string): void => {
    const i = tb.find(b(k), 0, k.length);
    if (i >= 0 !== model.has(k)) throw new Error('find before set');
    if (i >= 0) tb.setValue(i, b(v), 0, v.length);
    else tb.insert(b(k), 0, k.length, b(v), 0, v.length);
    model.set(k, v);
  };
  const del = (k: string): void => {
    const i = tb.find(b(k), 0, k.length);
    if (i >= 0 !== model.delete(k)) throw new Error('find before delete');
    if (i >= 0) tb.removeAt(i);
  };
  for (const o of ops) {
    if (o.t === 'set') set(`k${o.k}`, 'v'.repeat(o.v));
    else if (o.t === 'del') del(`k${o.k}`);
    else if (o.drop) for (const k of [...model.keys()].slice(0, o.n)) del(k);
    else for (let i = 0; i < o.n; i++) set(`k${i}`, String(i).repeat(1 + (i % 7)));
    check(tb, model);
  }
  check(tb.clone(), model);
}

t.test('ByteTable agrees with a Map model', async (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      modelRun(ops);
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass('property holds');
});

t.test('ByteTable agrees with a Map model with one slot migrated per write', async (t) => {
  // Migrations then last longer than the inserts to the next growth: resize() must finish
  // the running one first, and every operation meets entries in both indexes.
  const step = tuning.migrateStep;
  tuning.migrateStep = 1;
  t.teardown(() => {
    tuning.migrateStep = step;
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      modelRun(ops);
      return true;
    }),
    { numRuns: 40 },
  );
  t.pass('property holds');
});

t.test('every operation during a migration', async (t) => {
  const tb = new ByteTable();
  const model = new Map<string, string>();
  const put = (k: string, v: string): void => {
    const i = tb.find(b(k), 0, k.length);
    if (i >= 0) tb.setValue(i, b(v), 0, v.length);
    else tb.insert(b(k), 0, k.length, b(v), 0, v.length);
    model.set(k, v);
  };
  let n = 0;
  while (!tb.migrating) put(`f${n++}`, `v${n}`);
  t.ok(n > 256, `growth of a table of ${n - 1} entries migrates incrementally`);
  const bytesBoth = tb.bytes();
  let writes = 0;
  let r = 7;
  while (tb.migrating) {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    const keys = [...model.keys()];
    const k = keys[r % keys.length]!;
    const op = writes % 4;
    // Deleting a random entry moves the last one (either index) into its place.
    if (op === 0) {
      tb.removeAt(tb.find(b(k), 0, k.length));
      model.delete(k);
    } else if (op === 1)
      put(k, 'w'.repeat(r % 40)); // update, maybe moved to the end of the store
    else if (op === 2) put(`g${writes}`, 'new');
    else {
      // The table's last entry: no other entry moves.
      const last = tb.size - 1;
      model.delete(str(tb.data, tb.keyOff(last), tb.keyLen(last)));
      tb.removeAt(last);
    }
    if (tb.find(b('absent'), 0, 6) !== -1) throw new Error('absent key found');
    check(tb, model);
    if (tb.migrating) check(tb.clone(), model);
    writes++;
  }
  t.ok(writes > 1 && writes < 64, `migration took ${writes} writes`);
  t.ok(tb.bytes() < bytesBoth, 'the old index is released when the migration ends');
  const c = tb.clone();
  const snap = new Map(model);
  for (const k of [...model.keys()]) {
    tb.removeAt(tb.find(b(k), 0, k.length));
    model.delete(k);
    if (model.size % 97 === 0) check(tb, model);
  }
  t.equal(tb.size, 0);
  t.equal(tb.bytes(), 0, 'emptied while shrinking: no arrays left');
  check(c, snap);
  t.pass('a clone taken before emptying keeps its entries');
});

t.test('shrinking migrates incrementally too', async (t) => {
  const tb = new ByteTable();
  const model = new Map<string, string>();
  for (let i = 0; i < 5000; i++) {
    const k = `s${i}`;
    tb.find(b(k), 0, k.length);
    tb.insert(b(k), 0, k.length, b('x'), 0, 1);
    model.set(k, 'x');
  }
  tb.settle();
  let sawShrink = false;
  for (let i = 0; i < 4900; i++) {
    const k = `s${i}`;
    tb.removeAt(tb.find(b(k), 0, k.length));
    model.delete(k);
    if (tb.migrating) {
      sawShrink = true;
      check(tb, model);
    }
  }
  t.ok(sawShrink, 'a shrink left entries in both indexes for a while');
  check(tb, model);
  tb.settle();
  t.notOk(tb.migrating);
  check(tb, model);
});

t.test('binary and empty keys, growing values, compaction', async (t) => {
  const tb = new ByteTable();
  const model = new Map<string, string>();
  const keys = ['', '\0', '\xff', '\0\0', 'a'.repeat(200)];
  for (let round = 0; round < 50; round++) {
    for (const k of keys) {
      const v = 'x'.repeat((round * 37 + k.length) % 500);
      const i = tb.find(b(k), 0, k.length);
      if (i >= 0) tb.setValue(i, b(v), 0, v.length);
      else tb.insert(b(k), 0, k.length, b(v), 0, v.length);
      model.set(k, v);
    }
    check(tb, model);
  }
  // Values that keep growing move to the end; the holes must be reclaimed.
  t.ok(tb.bytes() < 4 * 4096 + 2000, `store compacted (${tb.bytes()} bytes)`);
  for (const k of keys) tb.removeAt(tb.find(b(k), 0, k.length));
  t.equal(tb.size, 0);
  t.equal(tb.bytes(), 0, 'an emptied table holds no arrays');
});
