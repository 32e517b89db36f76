/**
 * The quicklist list container against a plain JS array model: random pushes, pops, trims,
 * inserts, deletes (forward and backward, as LREM walks), replacements, seeks and clones, with
 * element sizes that cross node boundaries and elements larger than a node. After every step the
 * structure's invariants are checked: node links and counts, the 8 KiB node limit, entries
 * that parse from both ends, and bytes() equal to what the nodes actually hold.
 */
import t from 'tap';
import fc from 'fast-check';
import { HEAD, ListCursor, ListValue, TAIL, restoreList } from '../../src/store/types/list.ts';
import { Entry, MAX_NODE, entrySize } from '../../src/store/types/list-node.ts';
import { OVERHEAD, restoreObject } from '../../src/store/object.ts';
import { TYPE_LIST } from '../../src/store/record.ts';

const SIZES = [0, 1, 3, 10, 100, 127, 128, 700, 3000, 8000, 16_383, 16_384, 20_000];

function value(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7) & 255;
  return b;
}

type Op =
  | { t: 'push'; where: number; len: number; n: number }
  | { t: 'trim'; where: number; n: number }
  | { t: 'insert'; at: number; after: boolean; len: number }
  | { t: 'delete'; at: number; forward: boolean; n: number }
  | { t: 'replace'; at: number; len: number }
  | { t: 'seek'; at: number; walk: number; back: boolean }
  | { t: 'clone' };

const len = fc.oneof(
  { weight: 60, arbitrary: fc.constantFrom(...SIZES.slice(0, 7)) },
  { weight: 4, arbitrary: fc.constantFrom(...SIZES) },
  { weight: 10, arbitrary: fc.nat(400) },
);
const where = fc.constantFrom(HEAD, TAIL);
const at = fc.nat(1 << 20);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({
      t: fc.constant('push' as const),
      where,
      len,
      n: fc.integer({ min: 1, max: 250 }),
    }),
  },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('trim' as const), where, n: fc.nat(150) }) },
  { weight: 12, arbitrary: fc.record({ t: fc.constant('insert' as const), at, after: fc.boolean(), len }) },
  {
    weight: 12,
    arbitrary: fc.record({ t: fc.constant('delete' as const), at, forward: fc.boolean(), n: fc.nat(120) }),
  },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('replace' as const), at, len }) },
  {
    weight: 8,
    arbitrary: fc.record({ t: fc.constant('seek' as const), at, walk: fc.nat(50), back: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'clone' as const }) },
);

/** Structural invariants; returns a description of the first violation or null. */
function check(l: ListValue): string | null {
  let count = 0;
  let nodes = 0;
  let mem = OVERHEAD.object;
  const e = new Entry();
  for (let n = l.head, prev = null; n !== null; prev = n, n = n.next) {
    nodes++;
    if (n.prev !== prev) return 'broken prev link';
    if (n.count === 0) return 'empty node';
    if (n.start < 0 || n.end > n.buf.length || n.start > n.end) return 'bounds';
    if (n.count > 1 && n.used > MAX_NODE) return `node of ${n.count} entries holds ${n.used} bytes`;
    let k = 0;
    for (let p = n.start; p < n.end; p = e.e, k++) {
      n.readAt(p, e);
      if (e.e > n.end) return 'entry runs past node end';
      if (e.e - e.p !== entrySize(e.n)) return 'entry size';
    }
    if (k !== n.count) return `node count ${n.count} but ${k} entries`;
    let back = 0;
    for (let q = n.end; q > n.start; q = e.p, back++) n.readBack(q, e);
    if (back !== n.count) return 'backward walk disagrees';
    count += n.count;
    mem += OVERHEAD.object + OVERHEAD.buffer + n.buf.length;
    if (n.next === null && l.tail !== n) return 'tail pointer';
  }
  if (l.head === null && l.tail !== null) return 'tail without head';
  if (count !== l.size) return `size ${l.size} but ${count} elements`;
  if (nodes !== l.nodes) return 'node count';
  if (mem !== l.bytes()) return `bytes() ${l.bytes()} but nodes hold ${mem}`;
  return null;
}

function same(l: ListValue, model: Buffer[]): boolean {
  const d = l.dump();
  return d.length === model.length && d.every((x, i) => Buffer.compare(x, model[i]!) === 0);
}

function run(ops: Op[]): string | null {
  let l = new ListValue();
  let model: Buffer[] = [];
  let seed = 1;
  const cur = new ListCursor();
  for (const [i, op] of ops.entries()) {
    switch (op.t) {
      case 'push':
        for (let k = 0; k < op.n; k++) {
          const v = value(seed++, op.len);
          l.push(op.where, v, 0, v.length);
          if (op.where === HEAD) model.unshift(v);
          else model.push(v);
        }
        break;
      case 'trim': {
        const n = Math.min(op.n, model.length);
        l.trim(op.where, n);
        if (op.where === HEAD) model.splice(0, n);
        else model.splice(model.length - n, n);
        break;
      }
      case 'insert': {
        if (model.length === 0) break;
        const idx = op.at % model.length;
        const v = value(seed++, op.len);
        l.seek(idx, cur);
        l.insertAt(cur, op.after, v, 0, v.length);
        model.splice(op.after ? idx + 1 : idx, 0, v);
        break;
      }
      case 'delete': {
        // Like LREM: delete, keep walking in one direction, delete again every other element.
        if (model.length === 0) break;
        let idx = op.at % model.length;
        l.seek(idx, cur);
        for (let k = 0; k <= op.n; k++) {
          if (k % 2 === 0) {
            const more = l.deleteAt(cur, op.forward);
            model.splice(idx, 1);
            if (!op.forward) idx--;
            if (more !== (idx >= 0 && idx < model.length)) return `step ${i}: deleteAt returned ${more}`;
          } else {
            if (!(op.forward ? l.next(cur) : l.prev(cur))) break;
            idx += op.forward ? 1 : -1;
          }
          if (cur.node === null) break;
          if (Buffer.compare(cur.node.buf.subarray(cur.d, cur.d + cur.n), model[idx]!) !== 0)
            return `step ${i}: cursor lost its element after a delete`;
        }
        break;
      }
      case 'replace': {
        if (model.length === 0) break;
        const idx = op.at % model.length;
        const v = value(seed++, op.len);
        l.seek(idx, cur);
        l.replaceAt(cur, v, 0, v.length);
        model[idx] = v;
        break;
      }
      case 'seek': {
        if (model.length === 0) break;
        let idx = op.at % model.length;
        l.seek(idx, cur);
        for (let k = 0; ; k++) {
          if (Buffer.compare(cur.node!.buf.subarray(cur.d, cur.d + cur.n), model[idx]!) !== 0)
            return `step ${i}: seek/walk reads the wrong element at ${idx}`;
          if (!l.equals(cur, model[idx]!, 0, model[idx]!.length)) return `step ${i}: equals() false`;
          if (k === op.walk) break;
          const ok = op.back ? l.prev(cur) : l.next(cur);
          idx += op.back ? -1 : 1;
          if (ok !== (idx >= 0 && idx < model.length)) return `step ${i}: walk end disagrees`;
          if (!ok) break;
        }
        break;
      }
      case 'clone':
        l = l.clone();
        model = model.slice();
        break;
    }
    const bad = check(l);
    if (bad !== null) return `step ${i} (${op.t}): ${bad}`;
    if (!same(l, model)) return `step ${i} (${op.t}): contents differ from the model`;
  }
  return null;
}

t.test('quicklist matches an array model under random operations', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), (ops) => {
      const bad = run(ops);
      if (bad !== null) throw new Error(bad);
    }),
    { numRuns: 100, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
  );
  t.pass('100 random operation sequences agree with the model');
  t.end();
});

t.test('pushes and pops at both ends stay within a few nodes and bounded memory', (t) => {
  const l = new ListValue();
  const v = Buffer.from('0123456789abcdef');
  for (let i = 0; i < 100_000; i++) l.push(i & 1 ? HEAD : TAIL, v, 0, v.length);
  t.equal(l.size, 100_000);
  const perNode = Math.floor(MAX_NODE / entrySize(16));
  t.ok(l.nodes <= Math.ceil(100_000 / perNode) + 2, `${l.nodes} nodes for 100k elements`);
  t.ok(l.bytes() < 100_000 * 18 * 1.6, `bytes() ${l.bytes()} close to the payload`);
  // A queue: push at the tail, pop at the head; memory must not grow.
  const cur = new ListCursor();
  for (let i = 0; i < 200_000; i++) {
    l.push(TAIL, v, 0, v.length);
    l.peek(HEAD, cur);
    l.trim(HEAD, 1);
  }
  t.equal(l.size, 100_000);
  t.ok(l.bytes() < 100_000 * 18 * 1.6, `bytes() after a queue workload ${l.bytes()}`);
  t.equal(check(l), null);
  l.trim(TAIL, 100_000);
  t.equal(l.size, 0);
  t.equal(l.head, null);
  t.equal(l.bytes(), OVERHEAD.object, 'an emptied list holds no nodes');
  t.end();
});

t.test('a large element gets a node of its own and LSET shrinks it back', (t) => {
  const l = new ListValue();
  const small = Buffer.from('x');
  const big = value(9, 1_000_000);
  l.push(TAIL, small, 0, 1);
  l.push(TAIL, big, 0, big.length);
  l.push(TAIL, small, 0, 1);
  t.equal(l.nodes, 3);
  const cur = new ListCursor();
  l.seek(1, cur);
  t.equal(cur.n, big.length);
  const before = l.bytes();
  l.replaceAt(cur, small, 0, 1);
  t.ok(before - l.bytes() > 900_000, 'the big buffer was released');
  t.equal(check(l), null);
  t.end();
});

t.test('a delete that merges its node into the next one keeps the cursor on its element', (t) => {
  // Nodes: A full (80 × 100 B), B 20 × 100 B, C one small element. Deleting B's last element
  // walking forward leaves the cursor on C's first element, and B (now < 2 KiB, too big for A)
  // is prepended into C: the cursor must follow the shift.
  const l = new ListValue();
  const v = value(1, 100);
  for (let i = 0; i < 100; i++) l.push(TAIL, v, 0, v.length);
  const cur = new ListCursor();
  l.seek(99, cur);
  const big = value(2, 7000);
  l.insertAt(cur, true, big, 0, big.length);
  l.seek(100, cur);
  l.replaceAt(cur, Buffer.from('tail'), 0, 4);
  t.equal(l.nodes, 3);
  t.equal(check(l), null);
  l.seek(99, cur);
  t.ok(l.deleteAt(cur, true));
  t.equal(l.nodes, 2, 'B merged into C');
  t.equal(Buffer.from(cur.node!.buf.subarray(cur.d, cur.d + cur.n)).toString(), 'tail');
  t.equal(check(l), null);
  t.end();
});

t.test('encoding, dump/restore through the registry, clone independence', (t) => {
  const l = restoreList([Buffer.from('a'), Buffer.from(''), Buffer.from('c')]);
  t.equal(l.encoding(), 'quicklist');
  const r = restoreObject(TYPE_LIST, l.dump()) as ListValue;
  t.same(
    r.dump().map((b) => Buffer.from(b).toString()),
    ['a', '', 'c'],
  );
  const c = l.clone();
  c.push(HEAD, Buffer.from('z'), 0, 1);
  t.equal(l.size, 3);
  t.equal(c.size, 4);
  t.equal(check(c), null);
  t.end();
});

t.test('node buffers freed by pops are reused by other lists without sharing bytes', (t) => {
  // A drains node after node from its head (their 8 KiB buffers go back for reuse) while B
  // keeps opening full-size nodes at its head: every element of both must stay intact.
  const a = new ListValue();
  const b = new ListValue();
  const cur = new ListCursor();
  const N = 20_000;
  const text = (c: ListCursor): string =>
    Buffer.from(c.node!.buf.subarray(c.d, c.d + c.n)).toString('latin1');
  for (let i = 0; i < N; i++) {
    const v = Buffer.from(`a${i}`);
    a.push(TAIL, v, 0, v.length);
  }
  for (let i = 0; i < N; i++) {
    a.peek(HEAD, cur);
    if (text(cur) !== `a${i}`) {
      t.fail(`a[${i}] read ${text(cur)}`);
      break;
    }
    a.trim(HEAD, 1);
    const v = Buffer.from(`b${i}`);
    b.push(HEAD, v, 0, v.length);
  }
  t.equal(a.size, 0);
  t.equal(check(b), null);
  let i = N;
  for (let ok = b.peek(HEAD, cur); ok; ok = b.next(cur)) {
    i--;
    if (text(cur) !== `b${i}`) break;
  }
  t.equal(i, 0, 'B reads back head to tail in push order reversed');
  t.end();
});

t.test('a run of pushes at one end fills nodes to the limit and moves each node rarely', (t) => {
  for (const where of [HEAD, TAIL]) {
    const l = new ListValue();
    const v = Buffer.from('xxx');
    for (let i = 0; i < 50_000; i++) l.push(where, v, 0, 3);
    const perNode = Math.floor(MAX_NODE / entrySize(3));
    t.equal(l.nodes, Math.ceil(50_000 / perNode), `${where === HEAD ? 'LPUSH' : 'RPUSH'}: full nodes`);
    t.equal(check(l), null);
  }
  t.end();
});
