import t from 'tap';
import fc from 'fast-check';
import { DEFAULT_PARSER_LIMITS, RequestParser, type ParserLimits } from '../../src/protocol/parser.ts';

function encode(args: Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Inline form with every byte escaped, so any binary argument survives sdssplitargs. */
function encodeInline(args: Uint8Array[]): Buffer {
  const quoted = args.map(
    (a) => '"' + [...a].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('') + '"',
  );
  return Buffer.from(quoted.join(' ') + '\r\n');
}

function mk(limits: Partial<ParserLimits> = {}, authenticated = true): RequestParser {
  const p = new RequestParser({ ...DEFAULT_PARSER_LIMITS, ...limits });
  p.authenticated = authenticated;
  return p;
}

/** Drains every ready command, copying args out (they are only valid until the next call). */
function drain(p: RequestParser, out: Buffer[][]): number {
  for (;;) {
    const r = p.next();
    if (r !== 1) return r;
    const cmd: Buffer[] = [];
    for (let i = 0; i < p.argc; i++) cmd.push(Buffer.from(p.buf.subarray(p.starts[i], p.ends[i])));
    out.push(cmd);
  }
}

function parseAll(input: Buffer | Buffer[], limits: Partial<ParserLimits> = {}, auth = true) {
  const p = mk(limits, auth);
  const out: Buffer[][] = [];
  let r = 0;
  for (const c of Array.isArray(input) ? input : [input]) {
    p.feed(c);
    r = drain(p, out);
    if (r < 0) break;
  }
  return { p, out, r, strs: out.map((c) => c.map((a) => a.toString('latin1'))) };
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const pts = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of pts) {
    chunks.push(buf.subarray(prev, c));
    prev = c;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(...['\r\n', '\r', '\n', '\0', '*1\r\n', '$3\r\n', '"', ''].map((s) => Buffer.from(s))),
);
const command = fc.array(bytes, { minLength: 1, maxLength: 8 });
const commands = fc.array(command, { minLength: 1, maxLength: 20 });

t.test('property: chunks read into one reused buffer survive detach() and rewinds', async (t) => {
  // The server reads every socket into one shared buffer and calls detach() before the next
  // read overwrites it; an incomplete or rewound command must have been copied out.
  const shared = Buffer.alloc(4096);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(command, fc.constant([new Uint8Array(3000).fill(120)] as Uint8Array[])), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      (cmds, cuts, stops) => {
        const wire = Buffer.concat(cmds.map(encode));
        const p = mk();
        const out: Buffer[][] = [];
        let k = 0;
        const pump = (): void => {
          for (;;) {
            const r = p.next();
            if (r !== 1) return;
            // Backpressure: sometimes give the command back and stop, like a full ring.
            if (stops[k++ % stops.length]) {
              p.rewind();
              return;
            }
            const cmd: Buffer[] = [];
            for (let i = 0; i < p.argc; i++) cmd.push(Buffer.from(p.buf.subarray(p.starts[i], p.ends[i])));
            out.push(cmd);
          }
        };
        for (const c of splitAt(wire, cuts)) {
          for (let off = 0; off < c.length; off += shared.length) {
            const n = Math.min(shared.length, c.length - off);
            c.copy(shared, 0, off, off + n);
            p.feed(shared.subarray(0, n));
            pump();
            p.detach();
            shared.fill(0xab);
          }
        }
        // Drain what backpressure left behind.
        for (let i = 0; i < 200 && out.length < cmds.length; i++) {
          stops.fill(false);
          pump();
        }
        t.same(
          out,
          cmds.map((c) => c.map((a) => Buffer.from(a))),
        );
      },
    ),
    { numRuns: 300 },
  );
  t.end();
});

t.test('property: any chunking yields exactly the encoded commands', async (t) => {
  fc.assert(
    fc.property(commands, fc.array(fc.nat(), { maxLength: 30 }), (cmds, cuts) => {
      const wire = Buffer.concat(cmds.map(encode));
      const { out, r } = parseAll(splitAt(wire, cuts));
      t.equal(r, 0);
      t.same(
        out,
        cmds.map((c) => c.map((a) => Buffer.from(a))),
      );
    }),
    { numRuns: 300 },
  );
  t.end();
});

t.test('property: one byte at a time, mixed with inline commands', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(command, fc.boolean()), { minLength: 1, maxLength: 8 }), (cmds) => {
      const wire = Buffer.concat(cmds.map(([c, inline]) => (inline ? encodeInline(c) : encode(c))));
      const chunks = [...wire].map((b) => Buffer.from([b]));
      const { p, out, r } = parseAll(chunks);
      t.equal(r, 0);
      t.same(
        out,
        cmds.map(([c]) => c.map((a) => Buffer.from(a))),
      );
      t.equal(p.bufferedBytes(), 0);
    }),
    { numRuns: 100 },
  );
  t.end();
});

t.test('property: rewind replays the same command', async (t) => {
  fc.assert(
    fc.property(commands, fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), (cmds, rewinds) => {
      const p = mk();
      p.feed(Buffer.concat(cmds.map(encode)));
      const out: string[][] = [];
      let i = 0;
      while (p.next() === 1) {
        const cmd: string[] = [];
        for (let j = 0; j < p.argc; j++) cmd.push(p.buf.toString('latin1', p.starts[j], p.ends[j]));
        if (rewinds[i++ % 20] && out.length < 100) {
          p.rewind();
          t.equal(p.next(), 1);
          const again: string[] = [];
          for (let j = 0; j < p.argc; j++) again.push(p.buf.toString('latin1', p.starts[j], p.ends[j]));
          t.same(again, cmd);
        }
        out.push(cmd);
      }
      t.equal(out.length, cmds.length);
    }),
    { numRuns: 100 },
  );
  t.end();
});

t.test('multibulk errors', async (t) => {
  const cases: [string, string, boolean?][] = [
    ['*2000000\r\n', 'invalid multibulk length'],
    ['*abc\r\n', 'invalid multibulk length'],
    ['*\r\n', 'invalid multibulk length'],
    ['*-0\r\n', 'invalid multibulk length'],
    ['*+1\r\n', 'invalid multibulk length'],
    ['*01\r\n', 'invalid multibulk length'],
    ['* 1\r\n', 'invalid multibulk length'],
    ['*-9223372036854775809\r\n', 'invalid multibulk length'],
    ['*11\r\n', 'unauthenticated multibulk length', false],
    ['*1\r\n$-1\r\n', 'invalid bulk length'],
    ['*1\r\n$\r\n', 'invalid bulk length'],
    ['*1\r\n$+3\r\n', 'invalid bulk length'],
    ['*1\r\n$03\r\n', 'invalid bulk length'],
    ['*1\r\n$3x\r\n', 'invalid bulk length'],
    ['*1\r\n$9223372036854775808\r\n', 'invalid bulk length'],
    ['*1\r\n$536870913\r\n', 'invalid bulk length'],
    ['*1\r\n$16385\r\n', 'unauthenticated bulk length', false],
    ['*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', "expected '$', got 'f'"],
    ['*1\r\n\r\n', "expected '$', got ' '"],
    ['*1\r\n:1\r\n', "expected '$', got ':'"],
  ];
  for (const [input, msg, auth = true] of cases) {
    const { p, r, out } = parseAll(Buffer.from(input), {}, auth);
    t.equal(r, -1, JSON.stringify(input));
    t.equal(p.error, 'ERR Protocol error: ' + msg, JSON.stringify(input));
    t.equal(out.length, 0);
    t.equal(p.next(), -1, 'errors are sticky');
  }
  const big = mk({ maxBulkLen: 10 });
  big.feed(Buffer.from('*1\r\n$11\r\n'));
  t.equal(big.next(), -1);
  t.equal(big.error, 'ERR Protocol error: invalid bulk length');
});

t.test('limits that do not trip', async (t) => {
  t.same(parseAll(Buffer.from('*-9223372036854775808\r\n*1\r\n$1\r\na\r\n')).strs, [['a']]);
  const ten = encode(Array.from({ length: 10 }, () => Buffer.from('x')));
  t.equal(parseAll(ten, {}, false).out.length, 1);
  t.equal(parseAll(encode([Buffer.alloc(16384)]), {}, false).out.length, 1);
  t.same(parseAll(Buffer.from('*1\r\n$10\r\n0123456789\r\n'), { maxBulkLen: 10 }).strs, [['0123456789']]);
  // Negative counts are allowed before auth too (they are skipped, not counted).
  t.equal(parseAll(Buffer.from('*-100\r\n'), {}, false).r, 0);
});

t.test('too big header lines', async (t) => {
  let r = parseAll(Buffer.from('*' + '1'.repeat(70000)));
  t.equal(r.p.error, 'ERR Protocol error: too big mbulk count string');
  r = parseAll(Buffer.from('*1\r\n$' + '1'.repeat(70000)));
  t.equal(r.p.error, 'ERR Protocol error: too big bulk count string');
  r = parseAll(Buffer.from('A'.repeat(70000)));
  t.equal(r.p.error, 'ERR Protocol error: too big inline request');
  // Exactly at the limit: still waiting.
  r = parseAll(Buffer.from('A'.repeat(64 * 1024)));
  t.equal(r.r, 0);
  // Arriving in small pieces trips too.
  const chunks = Array.from({ length: 100 }, () => Buffer.from('B'.repeat(700)));
  r = parseAll(chunks);
  t.equal(r.p.error, 'ERR Protocol error: too big inline request');
  // A long line that is complete is fine, as in Redis.
  r = parseAll(Buffer.from('SET k ' + 'v'.repeat(70000) + '\r\n'));
  t.equal(r.out[0]![2]!.length, 70000);
});

t.test('query buffer limit', async (t) => {
  const chunks = [Buffer.from('*1\r\n$5000\r\n'), Buffer.alloc(600), Buffer.alloc(600)];
  const r = parseAll(chunks, { maxQueryBuffer: 1000 });
  t.equal(r.r, -1);
  t.equal(r.p.error, 'ERR Protocol error: client query buffer limit exceeded');
  // Many-argument command whose headers alone exceed the limit.
  const many = parseAll(Buffer.from('*100\r\n' + '$1\r\na\r\n'.repeat(99)), { maxQueryBuffer: 500 });
  t.equal(many.p.error, 'ERR Protocol error: client query buffer limit exceeded');
  t.equal(parseAll(encode([Buffer.alloc(900)]), { maxQueryBuffer: 1000 }).out.length, 1);
});

t.test('empty and negative multibulk are skipped', async (t) => {
  const r = parseAll(Buffer.from('*0\r\n*-1\r\n*-10\r\n\r\n  \t \r\n\n*1\r\n$4\r\nPING\r\n'));
  t.same(r.strs, [['PING']]);
  t.equal(r.r, 0);
  t.equal(r.p.isInline, false);
});

t.test('inline commands', async (t) => {
  const cases: [string, string[]][] = [
    ['PING\r\n', ['PING']],
    ['PING\n', ['PING']],
    ['  set  a   b \t\r\n', ['set', 'a', 'b']],
    ['SET "a b" \'c d\'\r\n', ['SET', 'a b', 'c d']],
    ['x "\\n\\r\\t\\b\\a\\\\\\"\\q"\n', ['x', '\n\r\t\b\x07\\"q']],
    ['x "\\x41\\x4a\\xff\\x4" \n', ['x', 'AJ\xffx4']],
    ["x 'it\\'s' 'a\\nb'\n", ['x', "it's", 'a\\nb']],
    ['x ""\n', ['x', '']],
    ['a"b c"d\n', []], // closing quote followed by a non-space is an error (checked below)
    ['x\rmid\r\n', ['x', 'mid']],
    ['x\vy\n', ['x\vy']],
    ['GET a\0b c\n', ['GET', 'a']],
  ];
  for (const [input, want] of cases) {
    const r = parseAll(Buffer.from(input, 'latin1'));
    if (want.length === 0) {
      t.equal(r.p.error, 'ERR Protocol error: unbalanced quotes in request', input);
      continue;
    }
    t.same(r.strs, [want], JSON.stringify(input));
    t.equal(r.p.isInline, true);
  }
  t.same(parseAll(Buffer.from('a"b c" d\n')).strs, [['ab c', 'd']]);
  for (const bad of ['SET "a\n', "SET 'a\n", 'SET "a"b\n', "SET 'a'b\n", 'SET "a\\"\n']) {
    t.equal(parseAll(Buffer.from(bad)).p.error, 'ERR Protocol error: unbalanced quotes in request', bad);
  }
  // Inline then multibulk then inline in one chunk.
  const mixed = parseAll(Buffer.from('PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO hi\n'));
  t.same(mixed.strs, [['PING'], ['GET', 'k'], ['ECHO', 'hi']]);
});

t.test('binary data, NUL bytes and lenient CRLF like Redis', async (t) => {
  const v = Buffer.from([0, 13, 10, 0, 255, 42, 36]);
  t.same(parseAll(encode([Buffer.from('SET'), v])).out, [[Buffer.from('SET'), v]]);
  // Redis never checks the byte after a header's CR or the two after a payload.
  t.same(parseAll(Buffer.from('*1\rX$4\rYPINGab')).strs, [['PING']]);
});

t.test('huge pipeline in one chunk', async (t) => {
  const n = 100_000;
  const p = mk();
  p.feed(Buffer.from('*1\r\n$4\r\nPING\r\n'.repeat(n)));
  let count = 0;
  let ok = true;
  while (p.next() === 1) {
    count++;
    if (p.argc !== 1 || p.buf[p.starts[0]!] !== 80 || p.ends[0]! - p.starts[0]! !== 4) ok = false;
  }
  t.equal(count, n);
  t.ok(ok);
  t.equal(p.bufferedBytes(), 0);
  t.equal(p.buf.length, 0, 'no reference kept once everything is consumed');
});

t.test('20 MB bulk in 64 KiB chunks', async (t) => {
  const size = 20 * 1024 * 1024;
  const value = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4096) value[i] = i & 255;
  const wire = Buffer.concat([
    encode([Buffer.from('SET'), Buffer.from('k'), value]),
    encode([Buffer.from('GET')]),
  ]);
  const p = mk();
  let zeros = 0;
  let copies = 0;
  const origCopy = Buffer.prototype.copy;
  // Count bytes copied by the parser: it must be ~1x the payload, not quadratic.
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = origCopy.apply(this, args);
    copies += n;
    return n;
  };
  const results: Buffer[][] = [];
  try {
    for (let off = 0; off < wire.length; off += 65536) {
      p.feed(wire.subarray(off, off + 65536));
      if (drain(p, results) === 0 && results.length === 0) zeros++;
    }
  } finally {
    Buffer.prototype.copy = origCopy;
  }
  t.equal(results.length, 2);
  t.equal(Buffer.compare(results[0]![2]!, value), 0);
  t.same(results[1], [Buffer.from('GET')]);
  t.ok(zeros >= 300, 'waits while the value arrives');
  t.ok(copies < 2 * wire.length, `copied ${copies} bytes for ${wire.length}`);
  t.equal(p.bufferedBytes(), 0);
});

t.test('many-argument command arriving slowly is not quadratic', async (t) => {
  const args = Array.from({ length: 50_000 }, (_, i) => Buffer.from('v' + i));
  const wire = encode(args);
  const origCopy = Buffer.prototype.copy;
  let copies = 0;
  Buffer.prototype.copy = function (this: Buffer, ...a: Parameters<Buffer['copy']>) {
    const n = origCopy.apply(this, a);
    copies += n;
    return n;
  };
  let r;
  try {
    const chunks: Buffer[] = [];
    for (let off = 0; off < wire.length; off += 1500) chunks.push(wire.subarray(off, off + 1500));
    r = parseAll(chunks);
  } finally {
    Buffer.prototype.copy = origCopy;
  }
  t.equal(r.out.length, 1);
  t.same(r.out[0]![49_999], Buffer.from('v49999'));
  t.ok(copies < 4 * wire.length, `copied ${copies} bytes for ${wire.length}`);
});

t.test('rewind with more data arriving', async (t) => {
  const p = mk();
  const wire = Buffer.from('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n');
  p.feed(wire.subarray(0, 20));
  t.equal(p.next(), 1);
  p.rewind();
  p.feed(wire.subarray(20));
  const out: Buffer[][] = [];
  t.equal(drain(p, out), 0);
  t.same(
    out.map((c) => c.map(String)),
    [['PING'], ['ECHO', 'hi']],
  );
  // Rewinding an inline command.
  p.feed(Buffer.from('SET "a b" c\n'));
  t.equal(p.next(), 1);
  p.rewind();
  t.equal(p.next(), 1);
  t.equal(p.isInline, true);
  t.equal(p.buf.toString('latin1', p.starts[1], p.ends[1]), 'a b');
});

t.test('argument arrays grow', async (t) => {
  const args = Array.from({ length: 1000 }, (_, i) => Buffer.from(String(i)));
  const r = parseAll(encode(args));
  t.equal(r.out[0]!.length, 1000);
  t.equal(r.out[0]![999]!.toString(), '999');
  t.ok(r.p.starts.length >= 64);
});

t.test('authenticated flag defaults to the strict limits', async (t) => {
  const p = new RequestParser(DEFAULT_PARSER_LIMITS);
  p.feed(Buffer.from('*11\r\n'));
  t.equal(p.next(), -1);
});
