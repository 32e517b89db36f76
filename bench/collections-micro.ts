/**
 * Per-operation cost of the large-collection encodings, in-process (no server): what
 * redis-benchmark's HSET / SADD put on one big key. Fields are 'element:NNNNNN' with random
 * NNNNNN (as __rand_int__ expands), read from one frame-like buffer the way a command's
 * arguments are, so the numbers include hashing and comparing the argument bytes.
 *
 *   HSET new / update / HGET hit / HGET miss / HDEL   on one hashtable-encoded hash
 *   SADD new / SISMEMBER hit / SREM                   on one hashtable-encoded set
 *   ZADD new / ZADD update / ZSCORE hit / ZREM         on one skiplist-encoded sorted set
 *
 * (Sets go through the *Bytes methods the SADD/SISMEMBER/SREM handlers call.)
 *
 * `HSET new worst` times each insert of a second fill on its own (hrtime per call, so its mean is
 * inflated by the clock): the slowest single insert shows index and store growth stalls.
 *
 *   node --expose-gc bench/collections-micro.ts [--n 1000000] [--rounds 3] [--only hash|set|zset]
 */
import { parseArgs } from 'node:util';
import { HashObject, newRef } from '../src/store/types/hash.ts';
import { SetObject } from '../src/store/types/set.ts';
import { ZSet } from '../src/store/types/zset.ts';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const N = Number(opt.n);
const ROUNDS = Number(opt.rounds);
const FL = 'element:000000'.length;

/** N distinct random fields, FL bytes each, back to back (like arguments in a frame). */
function fields(seed: number): Buffer {
  const buf = Buffer.alloc(N * FL);
  const used = new Set<number>();
  let x = seed;
  for (let i = 0; i < N; i++) {
    let v: number;
    do {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      v = x % 10_000_000;
    } while (used.has(v));
    used.add(v);
    buf.write('element:' + String(v).padStart(7, '0').slice(1), i * FL, 'latin1');
  }
  return buf;
}

const run = (section: string): boolean => opt.only === undefined || opt.only === section;

/** Slowest single call of fn(i) over i < N, and how many calls took over 1 ms. */
function worst(label: string, fn: (i: number) => void): void {
  globalThis.gc?.();
  let max = 0n;
  let over = 0;
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    const d = process.hrtime.bigint() - t0;
    if (d > max) max = d;
    if (d > 1_000_000n) over++;
  }
  console.log(
    `${label.padEnd(22)} ${(Number(max) / 1e6).toFixed(2).padStart(6)} ms max, ${over} calls > 1 ms`,
  );
}

function time(label: string, fn: () => void): void {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(22)} ${ns.toFixed(0).padStart(6)} ns/op`);
}

const present = fields(1);
const absent = fields(2);
const value = Buffer.from('xxx');
const value2 = Buffer.from('yyy');
const ref = newRef();
let sink = 0;

for (let r = 0; r < ROUNDS; r++) {
  console.log(`round ${r + 1} (N=${N})`);
  if (run('hash')) hashSection();
  if (run('set')) setSection();
  if (run('zset')) zsetSection();
}

function hashSection(): void {
  const w = new HashObject();
  w.convert();
  worst('HSET new worst', (i) => w.set(present, i * FL, FL, value, 0, 3));
  const h = new HashObject();
  h.convert();
  time('HSET new', () => {
    for (let i = 0; i < N; i++) h.set(present, i * FL, FL, value, 0, 3);
  });
  time('HSET update', () => {
    for (let i = 0; i < N; i++) h.set(present, i * FL, FL, value2, 0, 3);
  });
  time('HGET hit', () => {
    for (let i = 0; i < N; i++) if (h.get(present, i * FL, FL, ref)) sink += ref.len;
  });
  time('HGET miss', () => {
    for (let i = 0; i < N; i++) if (h.get(absent, i * FL, FL, ref)) sink += ref.len;
  });
  console.log(`  hash bytes()/field     ${(h.bytes() / h.size).toFixed(1)}`);
  time('HDEL', () => {
    for (let i = 0; i < N; i++) h.delete(present, i * FL, FL);
  });
}

function setSection(): void {
  const s = new SetObject();
  s.convert();
  time('SADD new', () => {
    for (let i = 0; i < N; i++) s.addBytes(present, i * FL, FL);
  });
  time('SISMEMBER hit', () => {
    for (let i = 0; i < N; i++) if (s.hasBytes(present, i * FL, FL)) sink++;
  });
  time('SISMEMBER miss', () => {
    for (let i = 0; i < N; i++) if (s.hasBytes(absent, i * FL, FL)) sink++;
  });
  console.log(`  set bytes()/member     ${(s.bytes() / s.size).toFixed(1)}`);
  time('SREM', () => {
    for (let i = 0; i < N; i++) s.removeBytes(present, i * FL, FL);
  });
}

function zsetSection(): void {
  const z = new ZSet(true);
  time('ZADD new', () => {
    for (let i = 0; i < N; i++) z.add(present, i * FL, FL, (i * 7919) % N, 0);
  });
  time('ZADD update', () => {
    for (let i = 0; i < N; i++) z.add(present, i * FL, FL, (i * 104729) % N, 0);
  });
  time('ZSCORE hit', () => {
    for (let i = 0; i < N; i++) sink += z.scoreAt(z.findBytes(present, i * FL, FL));
  });
  time('ZSCORE miss', () => {
    for (let i = 0; i < N; i++) sink += z.findBytes(absent, i * FL, FL);
  });
  console.log(`  zset bytes()/member    ${(z.bytes() / z.size).toFixed(1)}`);
  time('ZREM', () => {
    for (let i = 0; i < N; i++) z.removeBytes(present, i * FL, FL);
  });
}
if (sink === -1) console.log(sink);
