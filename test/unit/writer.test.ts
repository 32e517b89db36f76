import t from 'tap';
import { EMPTY_ARRAY, NULL_BULK_RESP2, OK, ONE, PONG, RespWriter, ZERO } from '../../src/protocol/writer.ts';
import {
  formatDouble,
  formatDouble17g,
  intAsciiLength,
  parseInt64,
  parseSafeInt,
  scanInt64,
  writeIntAscii,
} from '../../src/protocol/numbers.ts';

function out(resp3: boolean, f: (w: RespWriter) => void, size?: number): string {
  const w = new RespWriter(size);
  w.resp3 = resp3;
  f(w);
  return w.take().toString('latin1');
}
const both = (f: (w: RespWriter) => void): [string, string] => [out(false, f), out(true, f)];

t.test('simple types', async (t) => {
  t.same(
    both((w) => w.ok()),
    ['+OK\r\n', '+OK\r\n'],
  );
  t.equal(
    out(false, (w) => w.simple('PONG')),
    '+PONG\r\n',
  );
  t.equal(
    out(false, (w) => w.simple('a\r\nb')),
    '+a  b\r\n',
    'CR/LF never break the line',
  );
  t.equal(
    out(false, (w) => w.error('ERR bad thing')),
    '-ERR bad thing\r\n',
  );
  t.equal(
    out(false, (w) => w.error('ERR x\ny')),
    '-ERR x y\r\n',
  );
  t.equal(out(false, (w) => w.error('ERR é\n')).toString(), Buffer.from('-ERR é \r\n').toString('latin1'));
  t.same(
    both((w) => w.bool(true)),
    [':1\r\n', '#t\r\n'],
  );
  t.same(
    both((w) => w.bool(false)),
    [':0\r\n', '#f\r\n'],
  );
});

t.test('integers', async (t) => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '0'],
    [-1, '-1'],
    [7, '7'],
    [10, '10'],
    [99, '99'],
    [100, '100'],
    [2 ** 31 - 1, '2147483647'],
    [2 ** 31, '2147483648'],
    [-(2 ** 31), '-2147483648'],
    [2 ** 32 + 5, '4294967301'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [-Number.MAX_SAFE_INTEGER, '-9007199254740991'],
    [-(2 ** 53) + 1, '-9007199254740991'],
    [1e15, '1000000000000000'],
  ];
  for (const [n, s] of cases) {
    t.same(
      both((w) => w.integer(n)),
      [`:${s}\r\n`, `:${s}\r\n`],
      String(n),
    );
    t.equal(intAsciiLength(n), s.length);
  }
  t.equal(
    out(false, (w) => w.integer(2 ** 60)),
    ':1152921504606846976\r\n',
  );
  t.throws(() => out(false, (w) => w.integer(1.5)));
  t.equal(
    out(false, (w) => w.bigint(9223372036854775807n)),
    ':9223372036854775807\r\n',
  );
  t.equal(
    out(false, (w) => w.bigint(-9223372036854775808n)),
    ':-9223372036854775808\r\n',
  );
  t.equal(
    out(false, (w) => w.bigint(42n)),
    ':42\r\n',
  );
  // writeIntAscii over a sweep of magnitudes, against String().
  const b = Buffer.alloc(32);
  for (let n = 1; n < Number.MAX_SAFE_INTEGER; n = n * 3 + 1) {
    for (const v of [n, -n, n - 1]) {
      const end = writeIntAscii(b, 3, v);
      t.equal(b.toString('latin1', 3, end), String(v));
    }
  }
});

t.test('bulk strings', async (t) => {
  const src = Buffer.from('xxhello\0\r\nyy');
  t.same(
    both((w) => w.bulk(src, 2, 8)),
    ['$8\r\nhello\0\r\n\r\n', '$8\r\nhello\0\r\n\r\n'],
  );
  t.equal(
    out(false, (w) => w.bulk(src, 0, 0)),
    '$0\r\n\r\n',
  );
  const long = Buffer.alloc(100, 97);
  t.equal(
    out(false, (w) => w.bulk(long, 0, 100)),
    '$100\r\n' + 'a'.repeat(100) + '\r\n',
  );
  t.equal(
    out(false, (w) => w.bulkString('abc')),
    '$3\r\nabc\r\n',
  );
  t.equal(
    out(false, (w) => w.bulkString('')),
    '$0\r\n\r\n',
  );
  const utf = out(false, (w) => w.bulkString('héllo€'));
  t.equal(Buffer.from(utf, 'latin1').toString('utf8'), '$9\r\nhéllo€\r\n');
  const longUtf = 'ü'.repeat(100);
  t.equal(
    Buffer.from(
      out(false, (w) => w.bulkString(longUtf)),
      'latin1',
    ).toString(),
    `$200\r\n${longUtf}\r\n`,
  );
  t.equal(
    out(false, (w) => w.bulkString('x'.repeat(70))),
    '$70\r\n' + 'x'.repeat(70) + '\r\n',
  );
  t.same(
    both((w) => w.nullBulk()),
    ['$-1\r\n', '_\r\n'],
  );
  t.same(
    both((w) => w.nullArray()),
    ['*-1\r\n', '_\r\n'],
  );
});

t.test('aggregate headers', async (t) => {
  t.same(
    both((w) => w.arrayHeader(3)),
    ['*3\r\n', '*3\r\n'],
  );
  t.same(
    both((w) => w.arrayHeader(0)),
    ['*0\r\n', '*0\r\n'],
  );
  t.same(
    both((w) => w.mapHeader(2)),
    ['*4\r\n', '%2\r\n'],
  );
  t.same(
    both((w) => w.setHeader(5)),
    ['*5\r\n', '~5\r\n'],
  );
  t.same(
    both((w) => w.pushHeader(3)),
    ['*3\r\n', '>3\r\n'],
  );
});

t.test('doubles', async (t) => {
  const cases: [number, string][] = [
    [1, '1'],
    [1.5, '1.5'],
    [-0, '-0'],
    [0, '0'],
    [-2, '-2'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [1e21, '1e+21'],
    [0.1, '0.1'],
    [3.0000000000000004, '3.0000000000000004'],
    [1e17, '100000000000000000'],
    [2 ** 62, '4611686018427387904'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [-1.25e-10, '-1.25e-10'],
    [12345.678901234567, '1.2345678901234567e+4'],
    [1234.5678901234567, '1234.5678901234567'],
    [123456.5, '123456.5'],
    [1.5e300, '1.5e+300'],
    [5e-324, '5e-324'],
  ];
  // The writer follows Redis 7.0 (the oracle version): "%.17g".
  for (const [d, s] of cases) {
    const g = formatDouble17g(d);
    t.same(
      both((w) => w.double(d)),
      [`$${g.length}\r\n${g}\r\n`, `,${g}\r\n`],
      String(d),
    );
    t.equal(formatDouble(d), s);
  }
  // Redis 7.0's %.17g spelling, available for byte-exact 7.0 output.
  const g17: [number, string][] = [
    [0.1, '0.10000000000000001'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [1e-7, '9.9999999999999995e-08'],
    [3.0000000000000004, '3.0000000000000004'],
    [1e17, '1e+17'],
    [-0, '-0'],
    [1234567890123456.25, '1234567890123456.2'],
    [Infinity, 'inf'],
  ];
  for (const [d, s] of g17) t.equal(formatDouble17g(d), s, String(d));
});

t.test('verbatim', async (t) => {
  t.same(
    both((w) => w.verbatim('hi\r\nthere')),
    ['$9\r\nhi\r\nthere\r\n', '=13\r\ntxt:hi\r\nthere\r\n'],
  );
  t.equal(
    out(true, (w) => w.verbatim('# x', 'mkd')),
    '=7\r\nmkd:# x\r\n',
  );
});

t.test('raw and constants', async (t) => {
  t.equal(
    out(false, (w) => w.raw(OK, 0, OK.length)),
    '+OK\r\n',
  );
  t.equal(PONG.toString(), '+PONG\r\n');
  t.equal(ZERO.toString() + ONE.toString(), ':0\r\n:1\r\n');
  t.equal(EMPTY_ARRAY.toString() + NULL_BULK_RESP2.toString(), '*0\r\n$-1\r\n');
});

t.test('growth, reset and take', async (t) => {
  const w = new RespWriter(64);
  t.equal(w.buf.length, 64);
  const big = Buffer.alloc(1000, 120);
  w.arrayHeader(20);
  for (let i = 0; i < 20; i++) w.bulk(big, 0, 1000);
  t.ok(w.buf.length >= w.pos);
  const s = w.buf.toString('latin1', 0, w.pos);
  t.equal(s.length, 5 + 20 * (7 + 1000 + 2));
  t.ok(s.startsWith('*20\r\n$1000\r\nxxx'));
  w.ensure(10);
  t.ok(w.buf.length - w.pos >= 10);
  const taken = w.take();
  t.equal(taken.toString('latin1'), s);
  t.equal(w.pos, 0);
  // A buffer that grew past 4 MiB is given back on reset.
  w.bulk(Buffer.alloc(5 * 1024 * 1024), 0, 5 * 1024 * 1024);
  t.ok(w.buf.length > 4 * 1024 * 1024);
  w.reset();
  t.equal(w.buf.length, 64);
  t.equal(w.pos, 0);
  // Growth keeps previously written bytes.
  const w2 = new RespWriter(64);
  for (let i = 0; i < 1000; i++) w2.integer(i);
  t.equal(w2.take().toString(), Array.from({ length: 1000 }, (_, i) => `:${i}\r\n`).join(''));
});

t.test('numbers: string2ll rules', async (t) => {
  const b = (s: string): [Buffer, number, number] => {
    const buf = Buffer.from('##' + s + '##', 'latin1');
    return [buf, 2, s.length];
  };
  const valid: [string, bigint][] = [
    ['0', 0n],
    ['1', 1n],
    ['-1', -1n],
    ['10', 10n],
    ['9007199254740991', 9007199254740991n],
    ['-9007199254740991', -9007199254740991n],
    ['9223372036854775807', 9223372036854775807n],
    ['-9223372036854775808', -9223372036854775808n],
  ];
  for (const [s, v] of valid) {
    t.equal(parseInt64(...b(s)), v, s);
    const safe = v <= 9007199254740991n && v >= -9007199254740991n;
    if (safe) t.equal(parseSafeInt(...b(s)), Number(v), s);
    else t.ok(Number.isNaN(parseSafeInt(...b(s))), s);
  }
  t.ok(Number.isNaN(parseSafeInt(...b('9007199254740992'))));
  t.equal(parseInt64(...b('9007199254740992')), 9007199254740992n);
  const invalid = [
    '',
    '-',
    '-0',
    '01',
    '00',
    '+1',
    ' 1',
    '1 ',
    '1a',
    '0x10',
    '1.0',
    '9223372036854775808',
    '-9223372036854775809',
    '99999999999999999999',
    '10000000000000000000',
    '123456789012345678901',
    '\x001',
  ];
  for (const s of invalid) {
    t.ok(Number.isNaN(parseSafeInt(...b(s))), JSON.stringify(s));
    t.equal(parseInt64(...b(s)), null, JSON.stringify(s));
    t.ok(Number.isNaN(scanInt64(...b(s))));
  }
  t.equal(scanInt64(...b('9223372036854775807')) > 9e18, true);
  t.equal(scanInt64(...b('-9223372036854775808')) < -9e18, true);
});
