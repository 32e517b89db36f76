/**
 * Seeded random command sequences for the differential test (test/integration/differential.test.ts):
 * strings, counters and keyspace commands over a small keyspace with hash tags, integer,
 * float, empty and binary values, options in random (sometimes invalid) combinations, and
 * malformed calls whose error strings must match too.
 */
import type { Arg } from './resp-client.ts';

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const KEYS = [
  'a',
  'b',
  'c',
  'num',
  'flt',
  'str',
  '{t}1',
  '{t}2',
  '{t}3',
  '{u}x',
  '{u}y',
  'bin',
  'k:1',
  'k:2',
  'k:3',
  'long',
  'foo',
  'bar',
  'zz',
  '',
];
const INTS = ['0', '1', '-1', '42', '-17', '9999', '10000', '9223372036854775807', '-9223372036854775808'];
const ODD_INTS = [
  '9223372036854775806',
  '12345678901234567890',
  '007',
  '+5',
  ' 3',
  '3 ',
  '1e3',
  '-0',
  '0x10',
];
const FLOATS = ['1.5', '-0.25', '3.0', '0.1', '1e10', '2.5e-3', '.5', '5.', '-1.10', '100', 'inf', 'nan'];
const TEXT = ['', 'hello', 'world', 'ACGTACGTAC', 'GTTACAGA', 'foo bar', 'x'.repeat(50), 'ü€'];
const BIN = [Buffer.from([0, 255, 13, 10, 1]), Buffer.from([0]), Buffer.from('\r\n')];
/** An absolute time far in the future shared by both servers (EXPIREAT / EXAT / PXAT). */
const ABS = Math.floor(Date.now() / 1000) + 500_000;

export interface Step {
  cmd: Arg[];
  /** How replies are compared: exact, TTL class, or sorted array (KEYS). */
  cmp?: 'ttl' | 'sorted';
}

export function generator(seed: number): () => Step {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number): boolean => r() < p;
  const key = (): string => pick(KEYS);
  const keys = (max: number): string[] => Array.from({ length: int(1, max) }, key);
  const value = (): Arg => {
    const k = r();
    if (k < 0.3) return pick(INTS);
    if (k < 0.4) return pick(ODD_INTS);
    if (k < 0.55) return pick(FLOATS);
    if (k < 0.9) return pick(TEXT);
    return pick(BIN);
  };
  const secs = (): number => int(1000, 1_000_000);
  const bad = (): string => pick(['abc', '1.5', '', '9223372036854775808', ' 1']);
  const expiryOpt = (): Arg[] => {
    const k = r();
    if (k < 0.3) return ['EX', secs()];
    if (k < 0.55) return ['PX', secs() * 1000 + int(0, 999)];
    if (k < 0.65) return ['EXAT', ABS + int(0, 1000)];
    if (k < 0.75) return ['PXAT', ABS * 1000 + int(0, 999_999)];
    if (k < 0.8) return [pick(['EX', 'PX']), pick(['0', '-5', 'abc'])];
    if (k < 0.85) return ['PXAT', pick(['1', '1000'])]; // already past: key goes at once
    return [];
  };
  const ttlOpts = (): string[] => {
    const k = r();
    if (k < 0.5) return [];
    if (k < 0.95) return [pick(['NX', 'XX', 'GT', 'LT'])];
    return [pick(['NX', 'GT']), pick(['XX', 'LT'])];
  };

  const pending: Step[] = [];
  const gens: [number, () => Step][] = [
    [8, () => ({ cmd: ['GET', key()] })],
    [
      10,
      () => {
        const cmd: Arg[] = ['SET', key(), value()];
        if (chance(0.3)) cmd.push(pick(['NX', 'XX']));
        if (chance(0.25)) cmd.push('GET');
        if (chance(0.15)) cmd.push('KEEPTTL');
        else cmd.push(...expiryOpt());
        if (chance(0.03)) cmd.push(pick(['NX', 'XX', 'BOGUS', 'EX']));
        return { cmd };
      },
    ],
    [2, () => ({ cmd: ['SETNX', key(), value()] })],
    [
      1,
      () => {
        const ms = chance(0.5);
        const ttl = chance(0.9) ? secs() * (ms ? 1000 : 1) : pick(['0', '-1', 'abc']);
        return { cmd: [ms ? 'PSETEX' : 'SETEX', key(), ttl, value()] };
      },
    ],
    [2, () => ({ cmd: ['GETSET', key(), value()] })],
    [2, () => ({ cmd: ['GETDEL', key()] })],
    [
      3,
      () => {
        const opt = chance(0.25) ? ['PERSIST'] : expiryOpt();
        if (chance(0.05)) opt.push('PERSIST');
        return { cmd: ['GETEX', key(), ...opt] };
      },
    ],
    [4, () => ({ cmd: ['MGET', ...keys(6)] })],
    [4, () => ({ cmd: ['MSET', ...keys(5).flatMap((k) => [k, value()])] })],
    [2, () => ({ cmd: ['MSETNX', ...keys(4).flatMap((k) => [k, value()])] })],
    [3, () => ({ cmd: [pick(['INCR', 'DECR']), key()] })],
    [
      4,
      () => {
        const n = chance(0.85) ? String(int(-1000, 1000)) : pick([...ODD_INTS, ...INTS, 'abc', '1.0', '']);
        return { cmd: [pick(['INCRBY', 'DECRBY']), key(), n] };
      },
    ],
    [
      4,
      () => ({ cmd: ['INCRBYFLOAT', key(), chance(0.8) ? pick(FLOATS) : pick([...INTS, 'abc', '1e400'])] }),
    ],
    [3, () => ({ cmd: ['APPEND', key(), value()] })],
    [2, () => ({ cmd: ['STRLEN', key()] })],
    [
      3,
      () => {
        const idx = (): Arg => (chance(0.95) ? int(-12, 12) : pick([bad(), '9223372036854775807']));
        return { cmd: [pick(['GETRANGE', 'SUBSTR']), key(), idx(), idx()] };
      },
    ],
    [
      3,
      () => {
        const far = ['-1', 'abc', '536870911', '9223372036854775807', '-9223372036854775808', '1.0'];
        return { cmd: ['SETRANGE', key(), chance(0.9) ? int(0, 20) : pick(far), value()] };
      },
    ],
    [
      2,
      () => {
        const cmd: Arg[] = ['LCS', key(), key()];
        const k = r();
        if (k < 0.2) cmd.push('LEN');
        else if (k < 0.5) cmd.push('IDX');
        if (k >= 0.2 && k < 0.5 && chance(0.5)) cmd.push('MINMATCHLEN', int(0, 4));
        if (k >= 0.2 && k < 0.5 && chance(0.5)) cmd.push('WITHMATCHLEN');
        if (chance(0.04)) cmd.push(pick(['LEN', 'BOGUS', 'MINMATCHLEN']));
        return { cmd };
      },
    ],
    [4, () => ({ cmd: [pick(['DEL', 'UNLINK', 'EXISTS', 'TOUCH']), ...keys(4)] })],
    [2, () => ({ cmd: ['TYPE', key()] })],
    [2, () => ({ cmd: ['OBJECT', 'ENCODING', key()] })],
    [
      5,
      () => {
        const k = r();
        if (k < 0.4) return { cmd: ['EXPIRE', key(), secs(), ...ttlOpts()] };
        if (k < 0.7) return { cmd: ['PEXPIRE', key(), secs() * 1000 + int(0, 999), ...ttlOpts()] };
        if (k < 0.8)
          return { cmd: [pick(['EXPIREAT', 'PEXPIREAT']), key(), ABS + int(0, 100), ...ttlOpts()] };
        if (k < 0.9) return { cmd: [pick(['EXPIRE', 'PEXPIRE']), key(), pick(['0', '-1', '-100'])] };
        return { cmd: [pick(['EXPIRE', 'PEXPIRE']), key(), pick([bad(), '1e3', '10 ']), ...ttlOpts()] };
      },
    ],
    [2, () => ({ cmd: ['PERSIST', key()] })],
    [3, () => ({ cmd: [pick(['TTL', 'PTTL']), key()], cmp: 'ttl' })],
    [3, () => ({ cmd: [pick(['RENAME', 'RENAMENX']), key(), key()] })],
    [
      3,
      () => {
        const cmd: Arg[] = ['COPY', key(), key()];
        if (chance(0.3)) cmd.push('DB', chance(0.9) ? int(0, 3) : pick(['99', 'x']));
        if (chance(0.4)) cmd.push('REPLACE');
        if (chance(0.03)) cmd.push('BOGUS');
        return { cmd };
      },
    ],
    [2, () => ({ cmd: ['MOVE', key(), chance(0.9) ? int(0, 3) : pick(['16', 'x', '-1'])] })],
    // Redis 7.0 keeps a key SET with an absolute time already past until it is accessed or
    // actively expired, and DBSIZE counts it; Tessera drops it at once. Touching every key
    // first (EXISTS, compared too) makes Redis reclaim such keys lazily, so DBSIZE is exact.
    [
      1,
      () => {
        pending.push({ cmd: ['DBSIZE'] });
        return { cmd: ['EXISTS', ...KEYS] };
      },
    ],
    [1, () => ({ cmd: ['KEYS', pick(['*', 'k:*', '{t}?', '*o*'])], cmp: 'sorted' })],
    [1, () => ({ cmd: ['SELECT', chance(0.9) ? int(0, 2) : pick(['16', 'x', '-1'])] })],
    [0.3, () => ({ cmd: ['SWAPDB', int(0, 2), int(0, 2)] })],
    [0.15, () => ({ cmd: ['FLUSHDB'] })],
    [
      2,
      () => ({
        cmd: pick<Arg[]>([
          ['GET'],
          ['GET', 'a', 'b'],
          ['SET', 'a'],
          ['MSET', 'a', '1', 'b'],
          ['MSETNX', 'a'],
          ['MGET'],
          ['INCRBY', 'a'],
          ['EXPIRE', 'a'],
          ['RENAME', 'a'],
          ['GETRANGE', 'a', '0'],
          ['DEL'],
          ['NOPE', 'x', 'y'],
          ['LCS', 'a'],
          ['COPY', 'a'],
          ['TTL'],
          ['DBSIZE', 'x'],
        ]),
      }),
    ],
  ];
  const total = gens.reduce((s, g) => s + g[0], 0);
  return () => {
    const queued = pending.shift();
    if (queued) return queued;
    let x = r() * total;
    for (const [w, g] of gens) {
      x -= w;
      if (x < 0) return g();
    }
    return gens[0]![1]();
  };
}

export function normalise(reply: string, step: Step): string {
  if (step.cmp === 'ttl') {
    const m = /^:(-?\d+)$/.exec(reply);
    if (m && Number(m[1]) > 0) return ':<positive>';
    return reply;
  }
  if (step.cmp === 'sorted' && /^[*~]\[/.test(reply)) {
    const inner = reply.slice(2, -1);
    return `${reply[0]}[${inner === '' ? '' : inner.split(', ').sort().join(', ')}]`;
  }
  return reply;
}

export const show = (cmd: Arg[]): string =>
  cmd.map((a) => JSON.stringify(Buffer.isBuffer(a) ? a.toString('latin1') : String(a))).join(' ');
