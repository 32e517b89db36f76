import t from 'tap';
import fc from 'fast-check';
import { Arena, MAX_CLASS_BYTES } from '../../src/store/arena.ts';
import { Keyspace } from '../../src/store/keyspace.ts';
import { HEADER, KEY_LEN, KEY_OFF } from '../../src/store/record.ts';

const DBS = 4;
const SIZES = [
  0,
  1,
  7,
  24,
  100,
  1000,
  5000,
  70_000,
  MAX_CLASS_BYTES - HEADER - 8,
  MAX_CLASS_BYTES + 1,
  300_000,
];
const keyBytes = (i: number): Buffer => Buffer.from(i % 7 === 3 ? `bin\0\xff${i}` : `key:${i}`, 'latin1');
const byte = (ver: number, j: number): number => (ver * 131 + j * 7) & 255;

interface Entry {
  /** Value bytes: byte j comes from the last segment starting at or before j (APPEND adds one). */
  segs: { ver: number; start: number }[];
  len: number;
  exp: number;
  /** Bytes of the arena chunk holding the record (mirrors writeString's reuse rule). */
  chunk: number;
}

type Op =
  | { t: 'set'; db: number; k: number; size: number; ttl: number }
  | { t: 'append'; db: number; k: number; size: number }
  | { t: 'get' | 'del' | 'persist'; db: number; k: number }
  | { t: 'expire'; db: number; k: number; ttl: number }
  | { t: 'move'; db: number; k: number; to: number }
  | { t: 'fill'; db: number; from: number; n: number; ttl: number }
  | { t: 'drain'; db: number; from: number; n: number }
  | { t: 'flushdb'; db: number }
  | { t: 'swapdb'; a: number; b: number }
  | { t: 'time'; ms: number; active: boolean; budget: number };

const db = fc.nat(DBS - 1);
const k = fc.nat(60);
const size = fc.oneof(
  { weight: 120, arbitrary: fc.constantFrom(...SIZES.slice(0, 7)) },
  fc.constantFrom(...SIZES),
);
const ttl = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 80, arbitrary: fc.record({ t: fc.constant('set' as const), db, k, size, ttl }) },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('append' as const), db, k, size }) },
  {
    weight: 50,
    arbitrary: fc.record({ t: fc.constantFrom('get' as const, 'del' as const, 'persist' as const), db, k }),
  },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('expire' as const), db, k, ttl }) },
  { weight: 20, arbitrary: fc.record({ t: fc.constant('move' as const), db, k, to: fc.nat(DBS - 1) }) },
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('fill' as const), db, from: fc.nat(3000), n: fc.nat(2500), ttl }),
  },
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('drain' as const), db, from: fc.nat(3000), n: fc.nat(3000) }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('flushdb' as const), db }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('swapdb' as const), a: db, b: db }) },
  {
    weight: 30,
    arbitrary: fc.record({
      t: fc.constant('time' as const),
      ms: fc.integer({ min: 0, max: 3000 }),
      active: fc.boolean(),
      budget: fc.constantFrom(1, 16, 1e9),
    }),
  },
);

const stats = { grew: 0, shrank: 0, migrating: 0, large: 0, lazy: 0, active: 0 };

/** Runs ops against a Keyspace and a Map-per-db model, checking counts, bytes and memory. */
function run(ops: Op[]): void {
  const ks = new Keyspace(DBS);
  const model: Map<number, Entry>[] = Array.from({ length: DBS }, () => new Map());
  let ver = 0;
  const chunkFor = (klen: number, vlen: number): number => Arena.chunkSize(HEADER + klen + vlen);
  const live = (e: Entry | undefined): boolean => e !== undefined && (e.exp === 0 || e.exp > ks.now);
  /** ks.lookup plus the model's mirror of its lazy expiry. */
  const lookup = (d: number, i: number): number => {
    const kb = keyBytes(i);
    const e = model[d]!.get(i);
    const h = ks.lookup(d, kb, 0, kb.length);
    if (e !== undefined && !live(e)) {
      model[d]!.delete(i);
      stats.lazy++;
    }
    if ((h !== 0) !== model[d]!.has(i))
      throw new Error(`db ${d} key ${i}: store ${h !== 0}, model ${model[d]!.has(i)}`);
    return h;
  };
  const write = (d: number, i: number, h: number, len: number, exp: number, keep: number): void => {
    const kb = keyBytes(i);
    const old = model[d]!.get(i);
    const nh = ks.writeString(d, h, kb, 0, kb.length, len, exp, keep);
    const v = ++ver;
    const u8 = ks.arena.u8(nh);
    const vo = ks.valueOffset(nh);
    for (let j = keep; j < len; j++) u8[vo + j] = byte(v, j);
    const need = HEADER + kb.length + len;
    let chunk = chunkFor(kb.length, len);
    if (old !== undefined && need <= old.chunk && need * 2 >= old.chunk) chunk = old.chunk;
    // A value growing in place gets sds-like slack (Keyspace.writeString).
    else if (old !== undefined && keep > 0 && need > old.chunk)
      chunk = Arena.chunkSize(need < 1 << 20 ? need * 2 : need + (1 << 20));
    const segs = keep > 0 && old !== undefined ? old.segs.filter((x) => x.start < keep) : [];
    segs.push({ ver: v, start: keep });
    if (len > MAX_CLASS_BYTES - HEADER - 64) stats.large++;
    model[d]!.set(i, { segs, len, exp: exp === -1 ? (old?.exp ?? 0) : exp, chunk });
  };
  const verify = (): void => {
    let used = 0;
    for (let d = 0; d < DBS; d++) {
      const m = model[d]!;
      if (ks.keyCount(d) !== m.size) throw new Error(`db ${d}: ${ks.keyCount(d)} keys, model ${m.size}`);
      let withTtl = 0;
      for (const e of m.values()) {
        used += e.chunk;
        if (e.exp !== 0) withTtl++;
      }
      if (ks.expireCount(d) !== withTtl)
        throw new Error(`db ${d}: ${ks.expireCount(d)} TTLs, model ${withTtl}`);
      const tb = ks.table(d);
      if (tb.migrating) stats.migrating++;
    }
    if (ks.arena.usedBytes !== used) throw new Error(`arena usedBytes ${ks.arena.usedBytes}, model ${used}`);
  };
  const checkValue = (d: number, i: number, h: number): void => {
    const e = model[d]!.get(i)!;
    if (ks.valueLength(h) !== e.len)
      throw new Error(`db ${d} key ${i}: length ${ks.valueLength(h)}, model ${e.len}`);
    const kb = keyBytes(i);
    const b = ks.arena.base(h);
    if (
      ks.arena.i32(h)[(b + KEY_LEN) >> 2] !== kb.length ||
      !kb.equals(ks.arena.u8(h).subarray(b + KEY_OFF, b + KEY_OFF + kb.length))
    )
      throw new Error(`db ${d} key ${i}: key bytes differ`);
    if (ks.getExpire(h) !== e.exp)
      throw new Error(`db ${d} key ${i}: expire ${ks.getExpire(h)}, model ${e.exp}`);
    const u8 = ks.arena.u8(h);
    const vo = ks.valueOffset(h);
    for (let si = 0; si < e.segs.length; si++) {
      const end = si + 1 < e.segs.length ? e.segs[si + 1]!.start : e.len;
      for (let j = e.segs[si]!.start; j < end; j++)
        if (u8[vo + j] !== byte(e.segs[si]!.ver, j)) throw new Error(`db ${d} key ${i}: byte ${j} differs`);
    }
  };

  for (const op of ops) {
    switch (op.t) {
      case 'set': {
        const h = lookup(op.db, op.k);
        write(op.db, op.k, h, op.size, op.ttl === 0 ? 0 : ks.now + op.ttl, 0);
        break;
      }
      case 'append': {
        const h = lookup(op.db, op.k);
        const old = h === 0 ? 0 : ks.valueLength(h);
        write(op.db, op.k, h, old + op.size, -1, old);
        break;
      }
      case 'get': {
        const h = lookup(op.db, op.k);
        if (h !== 0) checkValue(op.db, op.k, h);
        break;
      }
      case 'del': {
        const h = lookup(op.db, op.k);
        if (h !== 0) {
          ks.removeFound(h);
          model[op.db]!.delete(op.k);
        }
        break;
      }
      case 'persist':
      case 'expire': {
        const h = lookup(op.db, op.k);
        if (h === 0) break;
        const exp = op.t === 'expire' && op.ttl !== 0 ? ks.now + op.ttl : 0;
        ks.setExpire(op.db, h, exp);
        model[op.db]!.get(op.k)!.exp = exp;
        break;
      }
      case 'move': {
        if (op.to === op.db) break;
        if (lookup(op.db, op.k) === 0 || lookup(op.to, op.k) !== 0) break;
        ks.moveFound(lookup(op.db, op.k), op.to);
        model[op.to]!.set(op.k, model[op.db]!.get(op.k)!);
        model[op.db]!.delete(op.k);
        break;
      }
      case 'fill': {
        const before = ks.table(op.db).capacity;
        for (let i = op.from; i < op.from + op.n; i++)
          write(op.db, i, lookup(op.db, i), i % 13, op.ttl === 0 ? 0 : ks.now + op.ttl + (i % 50), 0);
        if (ks.table(op.db).capacity > before) stats.grew++;
        break;
      }
      case 'drain': {
        const before = ks.table(op.db).slots.length;
        for (let i = op.from; i < op.from + op.n; i++) {
          const h = lookup(op.db, i);
          if (h !== 0) {
            ks.removeFound(h);
            model[op.db]!.delete(i);
          }
        }
        if (ks.table(op.db).slots.length < before) stats.shrank++;
        break;
      }
      case 'flushdb':
        ks.flushDb(op.db);
        model[op.db]!.clear();
        break;
      case 'swapdb': {
        ks.swapDb(op.a, op.b);
        const m = model[op.a]!;
        model[op.a] = model[op.b]!;
        model[op.b] = m;
        break;
      }
      case 'time': {
        ks.now += op.ms;
        ks.housekeep();
        if (!op.active) break;
        const before = ks.expiredKeys;
        while (ks.expireDue(op.budget));
        stats.active += ks.expiredKeys - before;
        for (const m of model) for (const [i, e] of m) if (!live(e)) m.delete(i);
        break;
      }
    }
    verify();
  }
  // Every live key reads back intact; then deleting everything returns all memory.
  for (let d = 0; d < DBS; d++) {
    for (const i of [...model[d]!.keys()]) {
      const h = lookup(d, i);
      if (h !== 0) {
        checkValue(d, i, h);
        ks.removeFound(h);
        model[d]!.delete(i);
      }
    }
  }
  verify();
  if (ks.arena.usedBytes !== 0) throw new Error(`usedBytes ${ks.arena.usedBytes} after deleting everything`);
  for (let d = 0; d < DBS; d++) if (ks.keyCount(d) !== 0) throw new Error(`db ${d} not empty`);
}

t.test('keyspace matches a Map model (sets, appends, TTLs, moves, swaps, flushes, rehash)', (t) => {
  fc.assert(fc.property(fc.array(opArb, { maxLength: 120, size: 'max' }), run), { numRuns: 150 });
  t.comment(JSON.stringify(stats));
  t.ok(
    stats.grew > 0 && stats.shrank > 0 && stats.migrating > 0,
    'incremental rehash grew and shrank tables',
  );
  t.ok(stats.large > 0, 'large (> 256 KiB) records exercised');
  t.ok(stats.lazy > 0 && stats.active > 0, 'both lazy and active expiry exercised');
  t.end();
});

t.test('arena: chunks never overlap, handles are non-zero, memory is accounted exactly', (t) => {
  const sizeArb = fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 600 }) },
    { weight: 3, arbitrary: fc.integer({ min: 600, max: MAX_CLASS_BYTES }) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_CLASS_BYTES + 1, max: MAX_CLASS_BYTES + 70_000 }) },
  );
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ alloc: sizeArb }) },
    { weight: 2, arbitrary: fc.record({ free: fc.nat() }) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
      const arena = new Arena();
      const live: { h: number; size: number; tag: number }[] = [];
      let tag = 0;
      const stamp = (x: { h: number; size: number; tag: number }): void => {
        arena.u8(x.h).fill(x.tag & 255, arena.base(x.h), arena.base(x.h) + x.size);
      };
      for (const o of ops) {
        if ('alloc' in o) {
          const h = arena.alloc(o.alloc);
          if (h === 0) throw new Error('handle 0');
          if (arena.sizeOf(h) < o.alloc || arena.sizeOf(h) !== Arena.chunkSize(o.alloc))
            throw new Error(`sizeOf ${arena.sizeOf(h)} for ${o.alloc}`);
          if (arena.base(h) + arena.sizeOf(h) > arena.u8(h).length) throw new Error('chunk past its page');
          const x = { h, size: o.alloc, tag: ++tag };
          stamp(x);
          live.push(x);
        } else if (live.length > 0) {
          const [x] = live.splice(o.free % live.length, 1);
          arena.free(x!.h);
        }
      }
      let used = 0;
      for (const x of live) {
        used += Arena.chunkSize(x.size);
        const u8 = arena.u8(x.h);
        const b = arena.base(x.h);
        for (let j = 0; j < x.size; j += 1 + (j >> 3))
          if (u8[b + j] !== (x.tag & 255)) throw new Error(`chunk ${x.h} overwritten`);
      }
      if (arena.usedBytes !== used) throw new Error(`usedBytes ${arena.usedBytes}, expected ${used}`);
      for (const x of live) arena.free(x.h);
      if (arena.usedBytes !== 0) throw new Error(`usedBytes ${arena.usedBytes} after freeing all`);
      const pages = arena.allocatedBytes;
      if (pages % (1 << 20) !== 0) throw new Error(`large records not returned: ${pages} bytes held`);
    }),
    { numRuns: 100 },
  );
  t.pass('arena agreed with the model');
  t.end();
});

t.test('timing wheel drives active expiry: due keys go, stale entries never delete live keys', (t) => {
  const ks = new Keyspace(2);
  const start = ks.now;
  const N = 20_000;
  const exp = new Float64Array(N); // model: 0 = no TTL, -1 = deleted
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const set = (i: number, at: number): void => {
    const kb = keyBytes(i);
    const h = ks.lookup(i & 1, kb, 0, kb.length);
    ks.writeString(i & 1, h, kb, 0, kb.length, 10 + (i % 40), at);
    exp[i] = at;
  };
  for (let i = 0; i < N; i++) set(i, start + 1 + rnd(5000));
  // Stale wheel entries: TTL removed, pushed back, or the key deleted and its chunk reused.
  for (let i = 0; i < N; i += 10) set(i, 0);
  for (let i = 1; i < N; i += 10) {
    const kb = keyBytes(i);
    ks.setExpire(i & 1, ks.lookup(i & 1, kb, 0, kb.length), start + 60_000);
    exp[i] = start + 60_000;
  }
  for (let i = 2; i < N; i += 10) {
    const kb = keyBytes(i);
    ks.removeFound(ks.lookup(i & 1, kb, 0, kb.length));
    exp[i] = -1;
    set(N + i, 0); // likely reuses the freed chunk, without a TTL
  }
  const alive = (now: number): number => {
    let n = 0;
    for (let i = 0; i < N; i++) if (exp[i] === 0 || exp[i]! > now) n++;
    return n + Math.floor(N / 10);
  };
  let calls = 0;
  for (let now = start; now <= start + 6000; now += 250) {
    ks.now = now;
    while (ks.expireDue(64)) calls++;
    const keys = ks.keyCount(0) + ks.keyCount(1);
    if (keys !== alive(now)) {
      t.fail(`at +${now - start} ms: ${keys} keys, expected ${alive(now)}`);
      break;
    }
  }
  t.ok(calls > 10, `budgeted expiry took ${calls} extra calls`);
  t.equal(ks.expireCount(0) + ks.expireCount(1), Math.floor(N / 10), 'only the pushed-back TTLs remain');
  ks.now = start + 61_000;
  while (ks.expireDue(1e9));
  t.equal(ks.keyCount(0) + ks.keyCount(1), alive(ks.now), 'pushed-back TTLs fire at their new time');
  t.equal(ks.expireCount(0) + ks.expireCount(1), 0);
  t.end();
});
