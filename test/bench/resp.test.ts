import t from 'tap';
import { buildTemplate, encodeOne, keyPrefix } from '../../bench/resp/commands.ts';
import { readDigits, writeDigits } from '../../bench/resp/digits.ts';
import { isUnknownCommand, scanReply } from '../../bench/resp/reply.ts';
import { HEADER, ValueCodec } from '../../bench/resp/values.ts';
import { parseWorkload } from '../../bench/workload/load.ts';
import type { MixEntry } from '../../bench/workload/types.ts';

/** Decode a RESP array of bulk strings (what a command is) — test oracle only. */
function decodeCommand(b: Buffer): string[] {
  const s = b.toString('latin1');
  const lines = s.split('\r\n');
  const n = Number(lines[0]!.slice(1));
  const out: string[] = [];
  let i = 1;
  for (let j = 0; j < n; j++) {
    const len = Number(lines[i]!.slice(1));
    out.push(lines[i + 1]!);
    if (lines[i + 1]!.length !== len) throw new Error(`bad length for arg ${j}`);
    i += 2;
  }
  if (lines.slice(i).join('') !== '') throw new Error('trailing bytes');
  return out;
}

const mix = (doc: object): MixEntry =>
  parseWorkload({ name: 'x', description: 'x', mix: [doc] }, 'x').mix[0]!;

t.test('templates encode valid RESP with keys, values, fields and scores patched in place', async (t) => {
  const codec = new ValueCodec(32);
  const cases: [object, (a: string[]) => void][] = [
    [{ command: 'GET', weight: 1 }, (a) => t.same(a, ['GET', 'tb:s:000000000042'])],
    [
      { command: 'SET', weight: 1, ttl: 3 },
      (a) => {
        t.same([a[0], a[1], a[3], a[4]], ['SET', 'tb:s:000000000042', 'EX', '3']);
        t.equal(a[2]!.length, 32);
        t.ok(a[2]!.startsWith('000000000042:000000:00000032:'));
      },
    ],
    [
      { command: 'MGET', weight: 1, keys: 3 },
      (a) => t.same(a, ['MGET', ...Array(3).fill('tb:s:000000000042')]),
    ],
    [{ command: 'MSET', weight: 1, keys: 2 }, (a) => t.equal(a.length, 5)],
    [{ command: 'INCR', weight: 1 }, (a) => t.same(a, ['INCR', 'tb:c:000000000042'])],
    [{ command: 'HSET', weight: 1 }, (a) => t.same(a.slice(0, 3), ['HSET', 'tb:h:000000000042', 'f0000'])],
    [{ command: 'HGET', weight: 1 }, (a) => t.same(a, ['HGET', 'tb:h:000000000042', 'f0000'])],
    [
      { command: 'ZADD', weight: 1 },
      (a) => t.same(a.slice(0, 3), ['ZADD', 'tb:z:000000000042', '0000000000']),
    ],
    [{ command: 'ZRANGE', weight: 1, count: 5 }, (a) => t.same(a, ['ZRANGE', 'tb:z:000000000042', '0', '4'])],
    [{ command: 'LPUSH', weight: 1 }, (a) => t.same(a.slice(0, 2), ['LPUSH', 'tb:l:000000000042'])],
    [{ command: 'LPOP', weight: 1 }, (a) => t.same(a, ['LPOP', 'tb:l:000000000042'])],
    [{ command: 'SADD', weight: 1 }, (a) => t.same(a.slice(0, 2), ['SADD', 'tb:t:000000000042'])],
  ];
  for (const [doc, check] of cases)
    check(decodeCommand(encodeOne(buildTemplate(mix(doc), 'tb:', 32), codec, 42)));
  t.equal(keyPrefix('app:', 'ZADD'), 'app:z:');
  // Large values: the template skips copying the value region, the offsets still line up.
  const big = buildTemplate(mix({ command: 'SET', weight: 1 }), 'tb:', 4096);
  t.equal(big.copyRanges.length, 4);
  const a = decodeCommand(encodeOne(big, new ValueCodec(4096), 7));
  t.equal(a[2]!.length, 4096);
  t.ok(new ValueCodec(4096).check(Buffer.from(a[2]!), 0, 4096, 7));
});

t.test('values carry their key and version; corruption and foreign values are caught', async (t) => {
  const codec = new ValueCodec(64);
  const b = Buffer.alloc(64);
  codec.write(b, 0, 64, 123, 999_999);
  t.ok(codec.check(b, 0, 64, 123));
  t.notOk(codec.check(b, 0, 64, 124), 'another key');
  t.notOk(codec.check(b, 0, 63, 123), 'truncated');
  t.notOk(codec.check(Buffer.concat([b, Buffer.from('x')]), 0, 65, 123), 'extended');
  t.notOk(codec.check(b, 0, HEADER - 1, 123), 'shorter than a header');
  const c = Buffer.from(b);
  c[40] = c[40]! ^ 1;
  t.notOk(codec.check(c, 0, 64, 123), 'one flipped byte in the filler');
  const d = Buffer.from(b);
  d.write('000001', 13); // version digits changed: filler no longer matches
  t.notOk(codec.check(d, 0, 64, 123));
  // A value written with another size (a previous workload) is still a valid value of its key.
  const long = Buffer.alloc(5000);
  new ValueCodec(5000).write(long, 0, 5000, 9, 5);
  t.ok(codec.check(long, 0, 5000, 9), 'codec grows its pattern for longer values');
  t.equal(readDigits(b, 0, 12), 123);
  const w = Buffer.alloc(4);
  writeDigits(w, 0, 4, 12345);
  t.equal(w.toString(), '2345', 'fixed width keeps the low digits');
});

t.test('scanReply finds complete replies and waits for partial ones', async (t) => {
  const replies = [
    '+OK\r\n',
    '-ERR x\r\n',
    ':42\r\n',
    '$3\r\nabc\r\n',
    '$-1\r\n',
    '*2\r\n$1\r\na\r\n$-1\r\n',
    '*0\r\n',
    '*-1\r\n',
  ];
  const all = Buffer.from(replies.join(''));
  let pos = 0;
  for (const r of replies) {
    const e = scanReply(all, pos, all.length);
    t.equal(e - pos, r.length, JSON.stringify(r));
    let early = 0;
    for (let cut = pos; cut < e; cut++) if (scanReply(all, pos, cut) !== -1) early++;
    t.equal(early, 0, 'every strict prefix is incomplete');
    pos = e;
  }
  t.throws(() => scanReply(Buffer.from('?x\r\n'), 0, 4), /unexpected reply type/);
  t.throws(() => scanReply(Buffer.from('$x\r\n'), 0, 4), /bad bulk length/);
  const unk = Buffer.from("-ERR unknown command 'LPUSH', with args beginning with: 'k' \r\n");
  t.ok(isUnknownCommand(unk, 0, unk.length));
  const other = Buffer.from('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  t.notOk(isUnknownCommand(other, 0, other.length));
});
