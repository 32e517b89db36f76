/**
 * Seeded random hash/set command sequences for test/integration/hashes-sets.test.ts: a small
 * keyspace where hashes, sets and strings collide (so WRONGTYPE paths run), fields and members
 * of every shape that matters to the encodings (canonical and non-canonical integers of each
 * intset width, 64/65-byte strings, binary), bulk fills that cross 512 fields / 512 members, and
 * malformed calls whose errors must match too.
 */
import type { Arg } from './resp-client.ts';
import { rng } from './diff-gen.ts';

export const HS_KEYS = ['h1', 'h2', 's1', 's2', 's3', 'x'];

/**
 * How a reply is compared: exactly; with its elements sorted (set replies, whose order Redis
 * leaves unspecified for hashtables); by `shape` only (random picks); `spop` (a random pop, the
 * harness re-aligns the two servers' states); `scan` (the harness runs the whole iteration).
 * `order` commands are exact on a listpack/intset key and sorted otherwise.
 */
export type Cmp = 'exact' | 'sorted' | 'pairs' | 'shape' | 'spop' | 'scan' | 'order';

export interface HsStep {
  cmd: Arg[];
  cmp: Cmp;
}

const FIELDS = ['a', 'b', 'c', '1', '2', '-1', '007', '', 'ü', 'f'.repeat(64), 'f'.repeat(65)];
const VALUES = [
  '1',
  '0',
  '-7',
  '42',
  '3.5',
  '1e3',
  'abc',
  '',
  'v'.repeat(64),
  'v'.repeat(65),
  '9223372036854775807',
];
const MEMBERS = [
  '0',
  '1',
  '2',
  '-5',
  '42',
  '32768',
  '-32769',
  '2147483648',
  '9223372036854775807',
  '-9223372036854775808',
  '01',
  '-0',
  '+3',
  'a',
  'b',
  'hello',
  '',
];
const BIN = Buffer.from([0, 255, 13, 10]);

export function hsGenerator(seed: number): () => HsStep {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number): boolean => r() < p;
  // Mostly the key family that matches the command, sometimes any key (type collisions).
  const hkey = (): string => (chance(0.85) ? pick(['h1', 'h2']) : pick(HS_KEYS));
  const skey = (): string => (chance(0.85) ? pick(['s1', 's2', 's3']) : pick(HS_KEYS));
  const skeys = (max: number): string[] => Array.from({ length: int(1, max) }, skey);
  const field = (): Arg => (chance(0.97) ? pick(FIELDS) : BIN);
  const value = (): Arg => (chance(0.97) ? pick(VALUES) : BIN);
  const member = (): Arg => (chance(0.97) ? pick(MEMBERS) : BIN);
  const count = (): Arg =>
    chance(0.9)
      ? int(-6, 8)
      : pick(['abc', '1.5', '-9223372036854775808', '9223372036854775807', '-4611686018427387904']);

  const gens: [number, () => HsStep][] = [
    [
      10,
      () => ({
        cmd: ['HSET', hkey(), ...Array.from({ length: int(1, 3) }, () => [field(), value()]).flat()],
        cmp: 'exact',
      }),
    ],
    [2, () => ({ cmd: ['HMSET', hkey(), field(), value()], cmp: 'exact' })],
    [2, () => ({ cmd: ['HSETNX', hkey(), field(), value()], cmp: 'exact' })],
    [
      2,
      () => {
        const n = int(200, 560);
        const base = int(0, 300);
        return {
          cmd: ['HSET', hkey(), ...Array.from({ length: n }, (_, i) => [`k${base + i}`, String(i)]).flat()],
          cmp: 'exact',
        };
      },
    ],
    [5, () => ({ cmd: ['HGET', hkey(), field()], cmp: 'exact' })],
    [3, () => ({ cmd: ['HMGET', hkey(), field(), field(), field()], cmp: 'exact' })],
    [5, () => ({ cmd: ['HDEL', hkey(), ...Array.from({ length: int(1, 3) }, field)], cmp: 'exact' })],
    [2, () => ({ cmd: [pick(['HEXISTS', 'HSTRLEN']), hkey(), field()], cmp: 'exact' })],
    [2, () => ({ cmd: ['HLEN', hkey()], cmp: 'exact' })],
    [3, () => ({ cmd: [pick(['HKEYS', 'HVALS', 'HGETALL']), hkey()], cmp: 'order' })],
    [
      4,
      () => ({
        cmd: [
          'HINCRBY',
          hkey(),
          field(),
          chance(0.9) ? int(-50, 50) : pick(['9223372036854775807', 'x', '1.5', '']),
        ],
        cmp: 'exact',
      }),
    ],
    [
      4,
      () => ({
        cmd: [
          'HINCRBYFLOAT',
          hkey(),
          field(),
          pick(['0.1', '-1.5', '1e10', '3', 'inf', 'nan', 'x', '1e400', '5e70']),
        ],
        cmp: 'exact',
      }),
    ],
    [
      3,
      () => {
        const cmd: Arg[] = ['HRANDFIELD', hkey()];
        if (chance(0.8)) cmd.push(count());
        if (cmd.length === 3 && chance(0.5)) cmd.push(chance(0.95) ? 'WITHVALUES' : 'BOGUS');
        return { cmd, cmp: 'shape' };
      },
    ],
    [2, () => ({ cmd: ['HSCAN', hkey(), '0', ...scanOpts()], cmp: 'scan' })],
    [10, () => ({ cmd: ['SADD', skey(), ...Array.from({ length: int(1, 4) }, member)], cmp: 'exact' })],
    [
      2,
      () => {
        const n = int(300, 600);
        const base = int(-100, 100);
        return {
          cmd: ['SADD', skey(), ...Array.from({ length: n }, (_, i) => String(base + i * 3))],
          cmp: 'exact',
        };
      },
    ],
    [5, () => ({ cmd: ['SREM', skey(), ...Array.from({ length: int(1, 4) }, member)], cmp: 'exact' })],
    [3, () => ({ cmd: ['SMEMBERS', skey()], cmp: 'order' })],
    [3, () => ({ cmd: ['SISMEMBER', skey(), member()], cmp: 'exact' })],
    [2, () => ({ cmd: ['SMISMEMBER', skey(), member(), member()], cmp: 'exact' })],
    [2, () => ({ cmd: ['SCARD', skey()], cmp: 'exact' })],
    [
      3,
      () => {
        const cmd: Arg[] = ['SPOP', skey()];
        if (chance(0.6)) cmd.push(chance(0.9) ? int(0, 6) : pick(['-1', 'abc', '9999999']));
        if (chance(0.03)) cmd.push('x');
        return { cmd, cmp: 'spop' };
      },
    ],
    [
      3,
      () => {
        const cmd: Arg[] = ['SRANDMEMBER', skey()];
        if (chance(0.8)) cmd.push(count());
        if (chance(0.03)) cmd.push('x');
        return { cmd, cmp: 'shape' };
      },
    ],
    [3, () => ({ cmd: ['SMOVE', skey(), skey(), member()], cmp: 'exact' })],
    [3, () => ({ cmd: [pick(['SINTER', 'SUNION', 'SDIFF']), ...skeys(3)], cmp: 'sorted' })],
    [
      3,
      () => ({
        cmd: [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), skey(), ...skeys(3)],
        cmp: 'exact',
      }),
    ],
    [
      2,
      () => {
        const ks = skeys(3);
        const n = chance(0.9) ? ks.length : pick(['0', '-1', 'x', '9']);
        const cmd: Arg[] = ['SINTERCARD', n, ...ks];
        if (chance(0.4)) cmd.push('LIMIT', chance(0.9) ? int(0, 3) : pick(['-1', 'x']));
        if (chance(0.05)) cmd.push('BOGUS');
        return { cmd, cmp: 'exact' };
      },
    ],
    [2, () => ({ cmd: ['SSCAN', skey(), '0', ...scanOpts()], cmp: 'scan' })],
    [2, () => ({ cmd: ['SET', pick(HS_KEYS), value()], cmp: 'exact' })],
    [2, () => ({ cmd: ['DEL', pick(HS_KEYS)], cmp: 'exact' })],
    [1, () => ({ cmd: ['TYPE', pick(HS_KEYS)], cmp: 'exact' })],
    [
      2,
      () => ({
        cmd: pick<Arg[]>([
          ['HSET', 'h1', 'f'],
          ['HSET', 'h1', 'f', 'v', 'g'],
          ['HMSET', 'h1', 'f', 'v', 'g'],
          ['HGET', 'h1'],
          ['HDEL', 'h1'],
          ['HINCRBY', 'h1', 'f'],
          ['HRANDFIELD'],
          ['HRANDFIELD', 'h1', '1', 'WITHVALUES', 'x'],
          ['SADD', 's1'],
          ['SPOP'],
          ['SMOVE', 's1', 's2'],
          ['SINTERCARD', '1'],
          ['SINTERCARD', '2', 's1'],
          ['SSCAN', 's1'],
          ['HSCAN', 'h1', 'x'],
          ['HSCAN', 'h1', '0', 'COUNT', '0'],
          ['SSCAN', 's1', '-1', 'MATCH'],
          ['SSCAN', 's1', ' 1'],
        ]),
        cmp: 'exact',
      }),
    ],
  ];
  function scanOpts(): Arg[] {
    const o: Arg[] = [];
    if (chance(0.4)) o.push('MATCH', pick(['*', 'a*', '*1*', '?', 'k1*', '[ab]*']));
    if (chance(0.4)) o.push('COUNT', chance(0.9) ? int(1, 50) : pick(['0', 'x']));
    if (chance(0.03)) o.push(pick(['TYPE', 'BOGUS']), 'x');
    return o;
  }
  const total = gens.reduce((s, g) => s + g[0], 0);
  return () => {
    let x = r() * total;
    for (const [w, g] of gens) {
      x -= w;
      if (x < 0) return g();
    }
    return gens[0]![1]();
  };
}
