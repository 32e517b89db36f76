/**
 * The hash and set containers against plain JS models (Map / Set of latin1 strings), driven by
 * random operation sequences: contents, sizes, iteration order where Redis defines it (listpack
 * insertion order, intset ascending), the encoding rules including the one-way conversions,
 * clone/dump/restore, and that bytes() stays an honest estimate as the containers change.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  HASH_MAX_LISTPACK_ENTRIES as MAX_LP,
  HashObject,
  newRef,
  restoreHash,
} from '../../src/store/types/hash.ts';
import { createSet, memberOf, restoreSet, SetObject } from '../../src/store/types/set.ts';
import { restoreObject } from '../../src/store/object.ts';
import { TYPE_HASH, TYPE_SET } from '../../src/store/record.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (r: { buf: Uint8Array; off: number; len: number }): string =>
  Buffer.from(r.buf.subarray(r.off, r.off + r.len)).toString('latin1');

/** Short strings from a tiny alphabet (so fields collide), sometimes past 64 bytes, binary too. */
const bytesArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '1', '\0', '\xff'), maxLength: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((n) => 'v'.repeat(n)) },
);

type HashOp =
  | { t: 'set'; f: string; v: string }
  | { t: 'del'; f: string }
  | { t: 'fill'; n: number; tag: string }
  | { t: 'drain'; n: number };

const hashOp: fc.Arbitrary<HashOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), f: bytesArb, v: bytesArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), f: bytesArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('fill' as const),
      n: fc.integer({ min: 1, max: 530 }),
      tag: fc.constantFrom('x', 'y'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('drain' as const), n: fc.integer({ min: 1, max: 540 }) }),
  },
);

function checkHash(h: HashObject, model: Map<string, string>, converted: boolean): void {
  if (h.size !== model.size) throw new Error(`size ${h.size} != ${model.size}`);
  const want = converted ? 'hashtable' : 'listpack';
  if (h.encoding() !== want) throw new Error(`encoding ${h.encoding()} != ${want}`);
  const r = newRef();
  for (const [f, v] of model) {
    if (!h.get(b(f), 0, f.length, r) || text(r) !== v) throw new Error(`get ${JSON.stringify(f)}`);
  }
  const seen: [string, string][] = [];
  for (let i = 0; i < h.size; i++) {
    h.field(i, r);
    const f = text(r);
    h.value(i, r);
    seen.push([f, text(r)]);
  }
  const expected = [...model];
  // A listpack iterates in insertion order, which a Map reproduces (updates keep their place).
  if (!converted) {
    if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new Error('listpack order');
  } else if (JSON.stringify(seen.sort()) !== JSON.stringify(expected.sort())) throw new Error('entries');
  let payload = 0;
  for (const [f, v] of model) payload += f.length + v.length;
  const bytes = h.bytes();
  if (bytes < payload || bytes > 400 + payload * 4 + model.size * 200)
    throw new Error(`bytes ${bytes} for ${payload}`);
}

t.test('HashObject agrees with a Map model, including listpack → hashtable', async (t) => {
  fc.assert(
    fc.property(fc.array(hashOp, { maxLength: 60 }), (ops) => {
      const h = new HashObject();
      const model = new Map<string, string>();
      let converted = false;
      for (const op of ops) {
        if (op.t === 'set') {
          if (op.f.length > 64 || op.v.length > 64) converted = true;
          const isNew = !model.has(op.f);
          model.set(op.f, op.v);
          if (h.set(b(op.f), 0, op.f.length, b(op.v), 0, op.v.length) !== isNew)
            throw new Error('set result');
        } else if (op.t === 'del') {
          if (h.delete(b(op.f), 0, op.f.length) !== model.delete(op.f)) throw new Error('delete result');
        } else if (op.t === 'fill') {
          for (let i = 0; i < op.n; i++) {
            const f = `${op.tag}${i}`;
            model.set(f, String(i));
            h.set(b(f), 0, f.length, b(String(i)), 0, String(i).length);
          }
        } else {
          for (const f of [...model.keys()].slice(0, op.n)) {
            model.delete(f);
            h.delete(b(f), 0, f.length);
          }
        }
        if (model.size > MAX_LP) converted = true;
        checkHash(h, model, converted);
      }
      const copy = h.clone();
      checkHash(copy, model, converted);
      // Restoring derives the encoding from the contents, as loading an RDB does.
      let fits = model.size <= MAX_LP;
      for (const [f, v] of model) if (f.length > 64 || v.length > 64) fits = false;
      const dump = h.dump();
      const back = restoreObject(TYPE_HASH, dump) as HashObject;
      // The restored listpack keeps the dumped order, which is the source's iteration order.
      const dumped = new Map<string, string>();
      for (let i = 0; i < dump.length; i += 2)
        dumped.set(
          text({ buf: dump[i]!, off: 0, len: dump[i]!.length }),
          text({ buf: dump[i + 1]!, off: 0, len: dump[i + 1]!.length }),
        );
      checkHash(back, dumped, !fits);
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('property holds');
});

t.test('HashObject conversion points are exactly 512 entries and 64 bytes', async (t) => {
  const h = new HashObject();
  for (let i = 0; i < MAX_LP; i++) h.set(b(`f${i}`), 0, `f${i}`.length, b('v'), 0, 1);
  t.equal(h.encoding(), 'listpack', '512 fields stay a listpack');
  h.set(b('f512'), 0, 4, b('v'), 0, 1);
  t.equal(h.encoding(), 'hashtable', 'the 129th converts');
  h.delete(b('f512'), 0, 4);
  t.equal(h.encoding(), 'hashtable', 'conversion is one-way');
  const v = new HashObject();
  v.set(b('a'), 0, 1, b('x'.repeat(64)), 0, 64);
  t.equal(v.encoding(), 'listpack', 'a 64-byte value fits');
  v.set(b('a'), 0, 1, b('x'.repeat(65)), 0, 65);
  t.equal(v.encoding(), 'hashtable', 'a 65-byte value does not');
  const r = restoreHash([b('k'), b('v')]);
  t.equal(r.encoding(), 'listpack');
  t.equal(restoreHash([b('k'), b('v')], 'hashtable').encoding(), 'hashtable', 'a source encoding is kept');
});

/** Members: canonical ints of every intset width, non-canonical ints, and strings. */
const memberArb = fc.oneof(
  fc.integer({ min: -40, max: 40 }).map(String),
  fc.constantFrom(
    '32767',
    '-32768',
    '32768',
    '2147483647',
    '-2147483649',
    '9007199254740993',
    '9223372036854775807',
    '-9223372036854775808',
  ),
  {
    weight: 1,
    arbitrary: fc.constantFrom('01', '-0', '+1', ' 1', '1.0', '9223372036854775808', 'a', 'b', ''),
  },
);

type SetOp = { t: 'add' | 'rem'; m: string } | { t: 'fill'; n: number };
const setOp: fc.Arbitrary<SetOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('add' as const), m: memberArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem' as const), m: memberArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('fill' as const), n: fc.integer({ min: 1, max: 520 }) }),
  },
);

const isCanonicalInt = (s: string): boolean =>
  /^(0|-?[1-9]\d{0,18})$/.test(s) && BigInt(s) <= 9223372036854775807n && BigInt(s) >= -9223372036854775808n;

function checkSet(s: SetObject, model: Set<string>, converted: boolean): void {
  if (s.size !== model.size) throw new Error(`size ${s.size} != ${model.size}`);
  const want = converted ? 'hashtable' : 'intset';
  if (s.encoding() !== want) throw new Error(`encoding ${s.encoding()} != ${want}`);
  const seen: string[] = [];
  for (let i = 0; i < s.size; i++) seen.push(s.textAt(i));
  for (const m of model) if (!s.has(memberOf(b(m), 0, m.length))) throw new Error(`has ${m}`);
  if (!converted) {
    const sorted = [...model].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    if (seen.join() !== sorted.join()) throw new Error(`intset order ${seen.join()}`);
  } else if ([...seen].sort().join() !== [...model].sort().join()) throw new Error('members');
  const bytes = s.bytes();
  if (bytes < model.size * 2 || bytes > 400 + model.size * 200) throw new Error(`bytes ${bytes}`);
}

t.test('SetObject agrees with a Set model, including intset widths and → hashtable', async (t) => {
  fc.assert(
    fc.property(fc.array(setOp, { minLength: 1, maxLength: 50 }), (ops) => {
      let s: SetObject | null = null;
      const model = new Set<string>();
      let converted = false;
      for (const op of ops) {
        const ms = op.t === 'fill' ? Array.from({ length: op.n }, (_, i) => String(i * 7 - 100)) : [op.m];
        for (const m of ms) {
          const mem = memberOf(b(m), 0, m.length);
          if (typeof mem === 'string' && isCanonicalInt(m)) throw new Error(`memberOf(${m})`);
          if (op.t === 'rem') {
            if (s !== null && s.remove(mem) !== model.delete(m)) throw new Error('remove result');
            continue;
          }
          if (s === null) {
            s = createSet(mem);
            converted = typeof mem === 'string';
          }
          if (!isCanonicalInt(m)) converted = true;
          const isNew = !model.has(m);
          model.add(m);
          if (s.add(mem) !== isNew) throw new Error('add result');
          if (model.size > 512) converted = true;
        }
        if (s !== null) checkSet(s, model, converted);
      }
      if (s === null) return true;
      checkSet(s.clone(), model, converted);
      const fits = model.size <= 512 && [...model].every(isCanonicalInt);
      checkSet(restoreObject(TYPE_SET, s.dump()) as SetObject, model, !fits);
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('property holds');
});

t.test('SetObject conversion points and random picks', async (t) => {
  const s = new SetObject();
  for (let i = 0; i < 512; i++) s.add(i);
  t.equal(s.encoding(), 'intset', '512 integers stay an intset');
  s.add(-1);
  t.equal(s.encoding(), 'hashtable', 'the 513th converts');
  const str = createSet('x');
  t.equal(str.encoding(), 'hashtable', 'a set created from a string member is a hashtable');
  const r = restoreSet([b('1'), b('2')]);
  t.equal(r.encoding(), 'intset');
  t.equal(restoreSet([b('1')], 'hashtable').encoding(), 'hashtable', 'a source encoding is kept');
  const seen = new Set<number>();
  for (let k = 0; k < 2000; k++) {
    const i = r.randomIndex();
    if (i < 0 || i >= 2) t.fail(`random index ${i} out of range at try ${k}`);
    seen.add(i);
    if (seen.size === 2) break;
  }
  t.equal(seen.size, 2, 'both members can be picked');
  // Width upgrades keep ascending order across 16/32/64-bit values.
  const w = new SetObject();
  for (const m of [5, 70000, -3, 2 ** 40, -(2n ** 63n), 2n ** 63n - 1n, 0]) w.add(m);
  t.same(
    Array.from({ length: w.size }, (_, i) => w.textAt(i)),
    ['-9223372036854775808', '-3', '0', '5', '70000', '1099511627776', '9223372036854775807'],
  );
});
