/**
 * The blocking commands' timeout argument, parsed as Redis 7.0.15 does (strtold, then
 * (long long) ceill(t * 1000.0) in x87 long double). Expected values were read from redis-server
 * 7.0.15 (BLPOP inside MULTI); test/integration/lists.test.ts compares the same cases live.
 */
import t from 'tap';
import { blockTimeoutMs } from '../../src/commands/block-timeout.ts';
import { E_LIST } from '../../src/protocol/redis-errors.ts';

const parse = (s: string): number | string => {
  const b = Buffer.from(s, 'latin1');
  return blockTimeoutMs(b, 0, b.length);
};

const NEG = E_LIST.TIMEOUT_NEGATIVE;
const BAD = E_LIST.TIMEOUT_NOT_FLOAT;

t.test('valid timeouts in ms', (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['00', 0],
    ['1', 1000],
    ['0.5', 500],
    ['.5e1', 5000],
    ['+5', 5000],
    ['0x10', 16_000],
    ['0x1p3', 8000],
    ['-0', 0],
    ['-0.0009', 0],
    // 0.001 is just below 1/1000 in binary: -0.001 × 1000 truncates to 0, not -1.
    ['-0.001', 0],
    ['-0x83126e978d4fdf3bp-73', 0],
    // ceill: a fraction of a millisecond is a millisecond, not "forever".
    ['0.0001', 1],
    ['0.0015', 2],
    ['9223372036854775.807', 9_223_372_036_854_775_807],
    ['123456789012', 123_456_789_012_000],
    ['9223372036854775', 9_223_372_036_854_775_000],
  ];
  for (const [s, ms] of cases) t.equal(parse(s), ms, s);
  t.end();
});

t.test('negative: below zero after ceill, or beyond the long long range (LLONG_MIN)', (t) => {
  // 9223372036854775.8072 s is 2^63 - 0.5 ms in long double: ceill makes it 2^63, out of range.
  const neg = ['-1', '-0.0015', 'inf', '-inf', '1e16', '1e400', '1e4000', '9223372036854775.8072'];
  for (const s of [...neg, '0x83126e978d4fdf3bp-10']) t.equal(parse(s), NEG, s);
  t.end();
});

t.test('not a float: what strtold rejects or reports as out of range', (t) => {
  for (const s of ['', 'abc', 'nan', ' 1', '1 ', '1_0', '1e5000', '1e-5000', '0x'])
    t.equal(parse(s), BAD, JSON.stringify(s));
  t.end();
});
