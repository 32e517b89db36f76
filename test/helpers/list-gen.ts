/**
 * Seeded random list command sequences for the differential test (test/integration/lists.test.ts):
 * every list command with valid and invalid arguments over a small keyspace where lists and
 * strings collide (WRONGTYPE paths), elements from empty to larger than a quicklist node, bulk
 * pushes that span several nodes, and the blocking commands inside MULTI/EXEC (where neither
 * server blocks, with or without data). Keys with a {q} tag share a slot; the others spread over
 * the shards, so LMOVE/LMPOP/BLPOP also run through the cross-shard executor.
 */
import { rng } from './diff-gen.ts';
import type { Arg } from './resp-client.ts';

export const LIST_KEYS = ['l1', 'l2', 'l3', '{q}a', '{q}b', '{q}c', 's1', 'x'];
const SMALL = ['a', 'b', 'c', 'a', '1', '-2', '', 'hello', '9223372036854775807'];
const BIN = Buffer.from([0, 255, 13, 10, 97]);
const LONGS = ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '1.5', 'x', ''];
const TIMEOUTS = ['0', '0.01', '1', '-1', 'abc', 'inf', '1e400', '0x10', '-0.001', '1e16', 'nan', ' 1'];

/** One step: the commands to send (a blocking command comes wrapped in MULTI … EXEC). */
export function listGenerator(seed: number): () => Arg[][] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number): boolean => r() < p;
  const key = (): string => pick(LIST_KEYS);
  const elem = (): Arg => {
    const k = r();
    if (k < 0.85) return pick(SMALL);
    if (k < 0.9) return BIN;
    if (k < 0.97) return 'm'.repeat(int(100, 400));
    return Buffer.alloc(int(8000, 12000), 'B');
  };
  const index = (): Arg => (chance(0.9) ? String(int(-12, 12)) : pick(LONGS));
  const count = (): Arg => (chance(0.85) ? String(int(0, 6)) : pick(['-1', ...LONGS]));
  const side = (): string => (chance(0.95) ? pick(['LEFT', 'RIGHT', 'left', 'Right']) : 'UP');
  const timeout = (): string => (chance(0.8) ? pick(['0', '1', '0.5']) : pick(TIMEOUTS));
  const mpopArgs = (): Arg[] => {
    const n = chance(0.9) ? int(1, 3) : pick([0, -1, 7]);
    const ks = Array.from({ length: Math.max(0, Math.min(n, 3)) }, key);
    const a: Arg[] = [String(n), ...ks, side()];
    if (chance(0.5)) a.push('COUNT', count());
    if (chance(0.05)) a.push(pick(['COUNT', 'junk']));
    return a;
  };

  return () => {
    const k = key();
    const x = r();
    if (x < 0.2) {
      const vals = chance(0.08)
        ? Array.from({ length: int(50, 300) }, (_, i) => `e${i}-${'p'.repeat(int(0, 90))}`)
        : Array.from({ length: int(1, 5) }, elem);
      return [[pick(['LPUSH', 'RPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX']), k, ...vals]];
    }
    if (x < 0.3) {
      const c: Arg[] = [pick(['LPOP', 'RPOP']), k];
      if (chance(0.5)) c.push(count());
      if (chance(0.03)) c.push('1');
      return [c];
    }
    if (x < 0.38) return [['LRANGE', k, index(), chance(0.3) ? '-1' : index()]];
    if (x < 0.43) return [['LINDEX', k, index()]];
    if (x < 0.48) return [['LSET', k, index(), elem()]];
    if (x < 0.53)
      return [['LINSERT', k, chance(0.95) ? pick(['BEFORE', 'AFTER', 'after']) : 'MIDDLE', elem(), elem()]];
    if (x < 0.58) return [['LREM', k, chance(0.9) ? String(int(-3, 3)) : pick(LONGS), elem()]];
    if (x < 0.62) return [['LTRIM', k, index(), index()]];
    if (x < 0.68) {
      const c: Arg[] = ['LPOS', k, elem()];
      for (let i = int(0, 3); i > 0; i--) {
        const opt = pick(['RANK', 'COUNT', 'MAXLEN', 'rank', 'BOGUS']);
        c.push(opt);
        if (chance(0.95))
          c.push(opt.toUpperCase() === 'RANK' ? pick(['1', '-1', '2', '-2', '0', ...LONGS]) : count());
      }
      return [c];
    }
    if (x < 0.74) return [['LMOVE', k, key(), side(), side()]];
    if (x < 0.77) return [['RPOPLPUSH', k, key()]];
    if (x < 0.81) return [['LMPOP', ...mpopArgs()]];
    if (x < 0.89) {
      const which = int(0, 4);
      let c: Arg[];
      if (which === 0) c = ['BLPOP', k, ...(chance(0.4) ? [key()] : []), timeout()];
      else if (which === 1) c = ['BRPOP', k, ...(chance(0.4) ? [key()] : []), timeout()];
      else if (which === 2) c = ['BLMOVE', k, key(), side(), side(), timeout()];
      else if (which === 3) c = ['BRPOPLPUSH', k, key(), timeout()];
      else c = ['BLMPOP', timeout(), ...mpopArgs()];
      return [['MULTI'], c, ['EXEC']];
    }
    if (x < 0.93) return [['LLEN', k]];
    if (x < 0.94) return [['SET', chance(0.8) ? pick(['s1', 'x']) : k, 'v']];
    if (x < 0.96) return [[pick(['DEL', 'TYPE', 'EXISTS']), k]];
    return [['OBJECT', 'ENCODING', k]];
  };
}
