/**
 * SORT's score parsing (strtod as Redis uses it) and string orders. The expected outcomes were
 * taken from redis-server 7.0.15 on glibc 2.36 (SORT of a one-member set, errno cleared first).
 */
import t from 'tap';
import { binaryCompare, collate, sortScore } from '../../src/commands/sort-util.ts';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

t.test('strtod: accepted forms and their values', (t) => {
  const ok: [string, number][] = [
    ['1e3', 1000],
    [' 7', 7],
    ['\t\n-2', -2],
    ['0x1A', 26],
    ['0x1.8p1', 3],
    ['0X.8', 0.5],
    ['-inf', -Infinity],
    ['INFINITY', Infinity],
    ['.5', 0.5],
    ['5.', 5],
    ['+3', 3],
    ['0e-500', 0],
    ['1e308', 1e308],
    ['007', 7],
    ['', 0],
    ['12\u0000junk', 12],
  ];
  for (const [s, v] of ok) t.equal(sortScore(b(s)), v, JSON.stringify(s));
  t.ok(Object.is(sortScore(b('-0')), -0), '-0 keeps its sign');
  t.end();
});

t.test('strtod: what SORT refuses', (t) => {
  for (const s of [
    'nan',
    '-NaN',
    '1 ',
    'abc',
    '1e',
    '0x',
    '--1',
    '1.2.3',
    ' ',
    'infinit',
    '1e400',
    '-1e400',
    '1e-400',
    '2.5e-310',
    '0x1p-1080',
  ]) {
    t.ok(Number.isNaN(sortScore(b(s))), JSON.stringify(s));
  }
  t.end();
});

t.test('binary order (STORE) and strcoll order (C.UTF-8: bytes up to a NUL)', (t) => {
  t.ok(binaryCompare(b('a'), b('ab')) < 0);
  t.ok(binaryCompare(b('b'), b('ab')) > 0);
  t.equal(binaryCompare(b('x'), b('x')), 0);
  t.ok(binaryCompare(b('a\u0000'), b('a')) > 0, 'a NUL is a byte like any other');
  t.equal(collate(b('a\u0000b'), b('a\u0000c')), 0, 'strcoll stops at the NUL');
  t.ok(collate(b('B'), b('a')) < 0, 'upper case before lower case');
  t.ok(collate(b('\u00e9'), b('f')) > 0, 'bytes above 0x7f after ASCII');
  t.ok(collate(b(''), b('a')) < 0);
  t.end();
});
