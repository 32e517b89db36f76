import t from 'tap';
import fc from 'fast-check';
import { globMatch, globMatchString } from '../../src/util/glob.ts';

// Every char of these literals is one byte (code points 0..255), so binary keys stay exact.
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const match = (p: string, s: string, nocase = false): boolean => {
  const pb = bytes(p);
  const sb = bytes(s);
  return globMatch(pb, 0, pb.length, sb, 0, sb.length, nocase);
};

// Oracle: real redis-server 7.0.15. All KEYS were SET (binary-safe, via ioredis), then
// `KEYS <pattern>` was run for each pattern; the expected lists are indices into KEYS.
// KEYS has no fast path except for the exact pattern "*", which is therefore absent.
const KEYS = [
  '',
  'a',
  'b',
  'c',
  'A',
  'ab',
  'abc',
  'abd',
  'aXc',
  'aBc',
  'hello',
  'hallo',
  'hxllo',
  'hllo',
  'heeeello',
  'Hello',
  'HELLO',
  'h*llo',
  'h?llo',
  'h[a]llo',
  'h\\llo',
  'a-b',
  'a]b',
  'a^b',
  '[',
  ']',
  '\\',
  '^',
  '-',
  '*',
  '?',
  '!',
  '!a',
  'foo:bar:baz',
  'foo::baz',
  'user:1000',
  'user:abc',
  'x\x00y',
  '\x00',
  '\xff',
  '\x80a',
  '\xc3\xa9',
  'a\x0ab',
  'ab\\',
  '}',
  '{',
  'aaaa',
  'aaab',
  'ba',
  'a[b',
  'abc]',
  '[]',
  'a\\b',
  '_',
  '`',
  'Z',
  'z',
];
const KEYS_CASES: Array<[string, number[]]> = [
  [
    '**',
    [
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
      29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54,
      55, 56,
    ],
  ],
  [
    '*?',
    [
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
      29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54,
      55, 56,
    ],
  ],
  ['?', [1, 2, 3, 4, 24, 25, 26, 27, 28, 29, 30, 31, 38, 39, 44, 45, 53, 54, 55, 56]],
  ['??', [5, 32, 40, 41, 48, 51]],
  ['???', [6, 7, 8, 9, 21, 22, 23, 37, 42, 43, 49, 52]],
  [
    '?*',
    [
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
      29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54,
      55, 56,
    ],
  ],
  ['a*', [1, 5, 6, 7, 8, 9, 21, 22, 23, 42, 43, 46, 47, 49, 50, 52]],
  ['*c', [3, 6, 8, 9, 36]],
  ['a?c', [6, 8, 9]],
  ['h?llo', [10, 11, 12, 17, 18, 20]],
  ['h*llo', [10, 11, 12, 13, 14, 17, 18, 19, 20]],
  ['h[ae]llo', [10, 11]],
  ['h[^e]llo', [11, 12, 17, 18, 20]],
  ['h[a-b]llo', [11]],
  ['h[b-a]llo', [11]],
  ['h[^a-e]llo', [12, 17, 18, 20]],
  ['H*', [15, 16]],
  ['h\\*llo', [17]],
  ['h\\?llo', [18]],
  ['h\\[a\\]llo', [19]],
  ['*\\\\*', [20, 26, 43, 52]],
  ['\\', [26]],
  ['\\\\', [26]],
  ['[', []],
  ['[a', [1]],
  ['a[', []],
  ['[]', []],
  ['[]]', []],
  ['[]a]', []],
  ['a[]]b', []],
  ['[\\]]', [25]],
  ['[\\', [26]],
  ['a[-]b', [21]],
  ['a[a-]', []],
  ['[-a]', [1, 28]],
  ['*[', []],
  ['[^', [1, 2, 3, 4, 24, 25, 26, 27, 28, 29, 30, 31, 38, 39, 44, 45, 53, 54, 55, 56]],
  ['[^]', [1, 2, 3, 4, 24, 25, 26, 27, 28, 29, 30, 31, 38, 39, 44, 45, 53, 54, 55, 56]],
  ['[!a]*', [1, 5, 6, 7, 8, 9, 21, 22, 23, 31, 32, 42, 43, 46, 47, 49, 50, 52]],
  ['*:*', [33, 34, 35, 36]],
  ['foo*baz', [33, 34]],
  ['foo:*:baz', [33, 34]],
  ['*a*b*', [5, 6, 7, 21, 22, 23, 33, 36, 42, 43, 47, 49, 50, 52]],
  ['a*a*a*b', [47]],
  ['\\*', [29]],
  ['[*]', [29]],
  ['[?]', [30]],
  ['*\x00*', [37, 38]],
  ['\x80*', [40]],
  ['[\x80-\xff]*', [39, 40, 41]],
  [
    '[a-\xff]*',
    [
      1, 4, 5, 6, 7, 8, 9, 15, 16, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 38, 39, 42, 43, 46, 47, 49,
      50, 51, 52, 53, 54, 55,
    ],
  ],
  ['[\x00-a]', [1, 4, 24, 25, 26, 27, 28, 29, 30, 31, 38, 53, 54, 55]],
  ['*\xff', [39]],
  ['\xc3\xa9*', [41]],
  ['?\xa9', [41]],
  ['ab\\', [43]],
  ['a\\', []],
  ['[A-Z]', [4, 55]],
  ['[Z-A]', [4, 55]],
  ['[a-Z]', [1, 24, 25, 26, 27, 53, 54, 55]],
  ['[^a-z]', [4, 24, 25, 26, 27, 28, 29, 30, 31, 38, 39, 44, 45, 53, 54, 55]],
  ['a[b-]', [5]],
  ['a[\\-]b', [21]],
  ['[a-c-e]*', [1, 2, 3, 5, 6, 7, 8, 9, 21, 22, 23, 28, 42, 43, 46, 47, 48, 49, 50, 52]],
  ['*]', [25, 50, 51]],
  ['[]]*', []],
  ['user:[0-9]*', [35]],
  ['user:[^0-9]*', [36]],
  ['*b*', [2, 5, 6, 7, 21, 22, 23, 33, 34, 36, 42, 43, 47, 48, 49, 50, 52]],
  ['[ab][bc]*', [5, 6, 7, 43, 50]],
  [
    '?*?*?',
    [
      6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 33, 34, 35, 36, 37, 42, 43, 46, 47,
      49, 50, 52,
    ],
  ],
  ['x?y', [37]],
  ['[\\x]', []],
  ['[x\\', [26]],
  ['a*', [1, 5, 6, 7, 8, 9, 21, 22, 23, 42, 43, 46, 47, 49, 50, 52]],
  ['***a', [1, 32, 40, 46, 48]],
  ['h*l*o', [10, 11, 12, 13, 14, 17, 18, 19, 20]],
  ['*o*o*', [33, 34]],
];

t.test('KEYS oracle from real Redis', async (t) => {
  for (const [pattern, expected] of KEYS_CASES) {
    const got: number[] = [];
    KEYS.forEach((k, i) => {
      if (match(pattern, k)) got.push(i);
    });
    t.same(got, expected, `pattern ${JSON.stringify(pattern)}`);
  }
});

// Oracle: CONFIG GET, which matches parameter names with nocase=1.
const NOCASE_CASES: Array<[string, string, boolean]> = [
  ['MaxMemory-P*', 'maxmemory-policy', true],
  ['MAXMEMORY-[P]OLICY', 'maxmemory-policy', true],
  ['maxmemory-[O-Q]olicy', 'maxmemory-policy', true],
  ['MAXMEMORY-[^p]OLICY', 'maxmemory-policy', false],
  ['MAXMEMORY-[A-Z]OLICY', 'maxmemory-policy', true],
  ['MAXMEMORY-[a-z]OLICY', 'maxmemory-policy', true],
  ['H?', 'hz', true],
  ['[H]Z', 'hz', true],
  ['[g-i]z', 'hz', true],
  ['\\H?', 'hz', true],
  ['[\\h]Z', 'hz', true],
  // an escaped char inside [] is compared case-sensitively even with nocase
  ['[^\\H]z', 'hz', true],
];

t.test('nocase (CONFIG GET oracle)', async (t) => {
  for (const [p, name, expected] of NOCASE_CASES) {
    t.equal(globMatchString(p, name, true), expected, `${p} nocase`);
  }
  t.notOk(globMatchString('MaxMemory-P*', 'maxmemory-policy'), 'case-sensitive by default');
  t.notOk(match('\xc9', '\xe9', true), 'only ASCII folds');
});

t.test('UTF-8 convenience is byte-wise, like Redis', async (t) => {
  t.notOk(globMatchString('h?llo', 'héllo'));
  t.ok(globMatchString('h??llo', 'héllo'));
  t.ok(globMatchString('h*', 'héllo'));
  t.notOk(globMatchString('*', ''), 'a lone * does not match the empty string');
  t.ok(globMatchString('', ''));
});

t.test('respects offsets and never reads past the slice', async (t) => {
  const p = bytes('xx[a]*yy');
  const s = bytes('zzab');
  // pattern "[a" (unterminated class) with a ']' just after the slice
  t.ok(globMatch(p, 2, 2, s, 2, 1, false));
  // pattern "a" followed by '*' outside the slice must not turn into "a*"
  t.notOk(globMatch(p, 3, 1, s, 2, 2, false));
  t.ok(globMatch(p, 5, 1, s, 0, 4, false));
  t.notOk(globMatch(p, 5, 1, s, 0, 0, false));
});

t.test('nesting limit matches Redis (a* repeated, 3000-char key)', async (t) => {
  const key = 'a'.repeat(3000);
  // Redis: 999, 1000, 1001 repetitions match; 1002 and 1100 do not.
  for (const [n, expected] of [
    [999, true],
    [1001, true],
    [1002, false],
    [1100, false],
  ] as const) {
    t.equal(match('a*'.repeat(n), key), expected, `${n} repetitions`);
  }
});

t.test('pathological patterns finish quickly', async (t) => {
  const long = 'a'.repeat(10000);
  const start = performance.now();
  t.notOk(match('a*a*a*a*a*a*a*a*a*b', long));
  t.notOk(match('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', long));
  t.notOk(match('*' + 'a*'.repeat(2000), long.slice(0, 1500)));
  t.ok(match('a*a*a*a*a*a*a*a*a*', long));
  const ms = performance.now() - start;
  t.ok(ms < 1000, `took ${ms.toFixed(1)} ms`);
});

// For patterns of literals, '?' and '*', Redis glob equals an anchored regexp on non-empty
// strings; on the empty string only the empty pattern matches.
function globToRegExp(p: string, flags: string): RegExp {
  let src = '';
  for (const c of p) src += c === '*' ? '[^]*' : c === '?' ? '[^]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${src}$`, flags);
}

t.test('property: agrees with a regexp translation', async (t) => {
  const pat = fc.string({ unit: fc.constantFrom('a', 'b', 'B', '?', '*'), maxLength: 12 });
  const str = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B'), maxLength: 14 });
  fc.assert(
    fc.property(pat, str, fc.boolean(), (p, s, nocase) => {
      const expected = s === '' ? p === '' : globToRegExp(p, nocase ? 'i' : '').test(s);
      return match(p, s, nocase) === expected;
    }),
    { numRuns: 3000 },
  );
  t.pass('property holds');
});
