/**
 * Seeded random sorted-set command sequences for test/integration/zsets.test.ts: every zset
 * command with options in random (sometimes invalid) combinations over a small keyspace that
 * also holds strings (WRONGTYPE), scores with infinities, exclusive and hex forms, lex bounds,
 * binary members, and bulk adds that push a key past the listpack limits.
 */
import type { Arg } from './resp-client.ts';
import { rng } from './diff-gen.ts';

export const ZKEYS = ['z1', 'z2', 'z3', 'z4', 'big', 'lex', 'str', 's1', 'none'];
/**
 * Lex commands only go to 'lex', whose members all score 0: on a skiplist with unequal scores
 * Redis's lex walk depends on the node levels it drew at random, so no two servers agree.
 */
const LEXKEY = 'lex';

export interface ZStep {
  cmd: Arg[];
  /** count: only the element count is comparable (random picks); scan: pairs compared as a set. */
  cmp?: 'count' | 'scan';
}

const MEMBERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', '', 'ab', 'x'.repeat(70), '12', '-3', 'b\x00', 'B'];
const BIN = [Buffer.from([0, 255, 10]), Buffer.from([200]), Buffer.from('\r\n')];
const SCORES = ['0', '1', '2', '-1', '1.5', '3', '-0', '0.1', 'inf', '-inf', '+inf', '1e10', '0x10', '7'];
const BAD_SCORES = ['nan', 'abc', '', ' 1', '1e400', '(1'];
const BOUNDS = ['-inf', '+inf', '0', '1', '(1', '2', '(2', '1.5', '(inf', '3', '-1', 'x', '', '(', '0x2'];
const LEX = ['-', '+', '[a', '(a', '[c', '(c', '[', '(', '[ab', 'a', '+x', '[\x00'];
const INTS = ['0', '1', '2', '-1', '-2', '5', '100', '-100', 'x', '9223372036854775807'];

export function zsetGenerator(seed: number): () => ZStep {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number): boolean => r() < p;
  const key = (): string =>
    chance(0.85) ? pick(ZKEYS.slice(0, 4)) : pick(ZKEYS.filter((k) => k !== LEXKEY));
  /** Inputs of ZUNION/ZINTER/ZDIFF: plain sets count with score 1. */
  const input = (): string => (chance(0.25) ? 's1' : key());
  const member = (): Arg => (chance(0.9) ? pick(MEMBERS) : pick(BIN));
  const score = (): string => (chance(0.95) ? pick(SCORES) : pick(BAD_SCORES));
  const keys = (): string[] => Array.from({ length: int(1, 3) }, key);
  const withscores = (): string[] => (chance(0.5) ? ['WITHSCORES'] : []);
  const limit = (): string[] => (chance(0.3) ? ['LIMIT', pick(INTS), pick(INTS)] : []);

  const steps: (() => ZStep)[] = [
    () => {
      const opts = ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].filter(() => chance(0.12));
      const n = opts.includes('INCR') && chance(0.8) ? 1 : int(1, 4);
      const args: Arg[] = [];
      for (let i = 0; i < n; i++) args.push(score(), member());
      if (chance(0.03)) args.pop();
      return { cmd: ['ZADD', key(), ...opts, ...args] };
    },
    () => ({ cmd: ['ZINCRBY', key(), score(), member()] }),
    () => ({ cmd: ['ZREM', key(), ...Array.from({ length: int(1, 3) }, member)] }),
    () => ({
      cmd: [pick(['ZCARD', 'OBJECT', 'TYPE', 'EXISTS']), key()].flatMap((a) =>
        a === 'OBJECT' ? ['OBJECT', 'ENCODING'] : [a],
      ),
    }),
    () => ({ cmd: ['ZSCORE', key(), member()] }),
    () => ({ cmd: ['ZMSCORE', key(), member(), member()] }),
    () => ({ cmd: [pick(['ZRANK', 'ZREVRANK']), key(), member()] }),
    () => ({ cmd: ['ZCOUNT', key(), pick(BOUNDS), pick(BOUNDS)] }),
    () => ({ cmd: ['ZLEXCOUNT', LEXKEY, pick(LEX), pick(LEX)] }),
    () => ({ cmd: ['ZADD', LEXKEY, ...Array.from({ length: int(1, 4) }, () => ['0', member()]).flat()] }),
    () => {
      const op = pick(['ZREM', 'ZPOPMIN', 'ZPOPMAX', 'ZCARD', 'OBJECT']);
      if (op === 'OBJECT') return { cmd: ['OBJECT', 'ENCODING', LEXKEY] };
      return { cmd: op === 'ZREM' ? [op, LEXKEY, member()] : [op, LEXKEY] };
    },
    () => {
      const by = pick(['', 'BYSCORE', 'BYLEX']);
      const lo = by === 'BYSCORE' ? pick(BOUNDS) : by === 'BYLEX' ? pick(LEX) : pick(INTS);
      const hi = by === 'BYSCORE' ? pick(BOUNDS) : by === 'BYLEX' ? pick(LEX) : pick(INTS);
      const src = by === 'BYLEX' ? LEXKEY : key();
      const opts = [
        ...(by ? [by] : []),
        ...(chance(0.4) ? ['REV'] : []),
        ...limit(),
        ...(chance(0.4) ? ['WITHSCORES'] : []),
      ];
      if (chance(0.5)) opts.reverse();
      return { cmd: ['ZRANGE', src, lo, hi, ...opts] };
    },
    () => ({ cmd: ['ZREVRANGE', key(), pick(INTS), pick(INTS), ...withscores()] }),
    () => ({
      cmd: [
        pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE']),
        key(),
        pick(BOUNDS),
        pick(BOUNDS),
        ...withscores(),
        ...limit(),
      ],
    }),
    () => ({ cmd: [pick(['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), LEXKEY, pick(LEX), pick(LEX), ...limit()] }),
    () => {
      const by = pick(['', 'BYSCORE', 'BYLEX']);
      const lo = by === 'BYSCORE' ? pick(BOUNDS) : by === 'BYLEX' ? pick(LEX) : pick(INTS);
      const hi = by === 'BYSCORE' ? pick(BOUNDS) : by === 'BYLEX' ? pick(LEX) : pick(INTS);
      return {
        cmd: [
          'ZRANGESTORE',
          key(),
          by === 'BYLEX' ? LEXKEY : key(),
          lo,
          hi,
          ...(by ? [by] : []),
          ...(chance(0.3) ? ['REV'] : []),
          ...limit(),
        ],
      };
    },
    () => ({ cmd: ['ZREMRANGEBYRANK', key(), pick(INTS), pick(INTS)] }),
    () => ({ cmd: ['ZREMRANGEBYSCORE', key(), pick(BOUNDS), pick(BOUNDS)] }),
    () => ({ cmd: ['ZREMRANGEBYLEX', LEXKEY, pick(LEX), pick(LEX)] }),
    () => ({ cmd: [pick(['ZPOPMIN', 'ZPOPMAX']), key(), ...(chance(0.5) ? [pick(INTS)] : [])] }),
    () => {
      const ks = keys();
      const nk = chance(0.9) ? String(ks.length) : pick(['0', '-1', 'x', '9']);
      const opt = chance(0.5) ? ['COUNT', pick(INTS)] : [];
      return { cmd: ['ZMPOP', nk, ...ks, pick(['MIN', 'MAX', 'MID']), ...opt] };
    },
    () => ({ cmd: [pick(['SADD', 'SADD', 'SREM']), 's1', ...Array.from({ length: int(1, 3) }, member)] }),
    () => {
      const ks = Array.from({ length: int(1, 3) }, input);
      const agg = chance(0.3) ? ['AGGREGATE', pick(['SUM', 'MIN', 'MAX', 'AVG'])] : [];
      const w = chance(0.3)
        ? ['WEIGHTS', ...ks.map(() => pick(['1', '2', '0', '-1', 'inf', '-inf', '0.5', 'x']))]
        : [];
      const nk = chance(0.95) ? String(ks.length) : pick(['0', 'x', '5']);
      const op = pick([
        'ZUNION',
        'ZINTER',
        'ZDIFF',
        'ZUNIONSTORE',
        'ZINTERSTORE',
        'ZDIFFSTORE',
        'ZINTERCARD',
      ]);
      const store = op.endsWith('STORE');
      const tail: string[] =
        op === 'ZINTERCARD'
          ? chance(0.5)
            ? ['LIMIT', pick(INTS)]
            : []
          : op === 'ZDIFF' || op === 'ZDIFFSTORE'
            ? [...(store ? [] : withscores())]
            : [...w, ...agg, ...(store ? [] : withscores())];
      return { cmd: [op, ...(store ? [key()] : []), nk, ...ks, ...tail] };
    },
    () => ({ cmd: ['ZRANDMEMBER', key(), '1000', ...withscores()] }),
    () => ({ cmd: ['ZRANDMEMBER', key()], cmp: 'count' }),
    () => ({ cmd: ['ZRANDMEMBER', key(), pick(['-5', '2', '-1', '1']), ...withscores()], cmp: 'count' }),
    () => ({
      cmd: [
        'ZSCAN',
        key(),
        chance(0.9) ? '0' : pick(['x', '']),
        ...(chance(0.3) ? ['MATCH', pick(['a*', '*', '?', '[a-c]'])] : []),
        'COUNT',
        '1000',
      ],
      cmp: 'scan',
    }),
    () => ({ cmd: ['DEL', key()] }),
    () => ({ cmd: ['SET', pick(['str', 'z4']), 'v'] }),
    () => {
      // Push a key past the listpack limits now and then.
      const args: string[] = [];
      for (let i = 0; i < 130; i++) args.push(String(i % 17), `m${i}`);
      return { cmd: ['ZADD', 'big', ...args] };
    },
  ];
  const weights = steps.map((_, i) => (i === steps.length - 1 ? 0.2 : i === 0 ? 4 : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let x = r() * total;
    for (let i = 0; i < steps.length; i++) {
      x -= weights[i]!;
      if (x < 0) return steps[i]!();
    }
    return steps[0]!();
  };
}

/** Makes replies of random-pick and scan commands comparable across servers. */
export function normaliseZ(reply: string, step: ZStep): string {
  if (step.cmp === 'count') {
    if (reply.startsWith('$"')) return '<one member>';
    if (!/^\*\[/.test(reply)) return reply;
    return `<${(reply.match(/\$"(?:[^"\\]|\\.)*"|,[^,\]]+/g) ?? []).length} items>`;
  }
  if (step.cmp === 'scan' && reply.startsWith('*[')) {
    const tokens = reply.match(/\$"(?:[^"\\]|\\.)*"/g) ?? [];
    const pairs: string[] = [];
    for (let i = 1; i + 1 < tokens.length; i += 2) pairs.push(`${tokens[i]}=${tokens[i + 1]}`);
    return `${tokens[0]} {${pairs.sort().join(' ')}}`;
  }
  return reply;
}
