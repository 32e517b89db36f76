import t from 'tap';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { keySlot, keySlotOfString } from '../../src/router/keyslot.ts';

const require = createRequire(import.meta.url);
const clusterKeySlot = require('cluster-key-slot') as (key: string | ArrayLike<number>) => number;

// Oracle: `CLUSTER KEYSLOT` on a real redis-server 7.0.15 started with --cluster-enabled yes.
const REDIS_KEYSLOT: Array<[string, number]> = [
  ['foo', 12182],
  ['bar', 5061],
  ['hello', 866],
  ['{user1000}.following', 3443],
  ['{user1000}.followers', 3443],
  ['foo{}{bar}', 8363],
  ['foo{{bar}}zap', 4015],
  ['{bar', 4015],
  ['foo{bar}{zap}', 5061],
  ['', 0],
  ['{', 4092],
  ['}', 12090],
  ['{}', 15257],
  ['}{', 12793],
  ['a{b', 13340],
  ['a}b{c}', 7365],
  ['{a}', 15495],
  ['123456789', 12739],
  ['héllo', 11061],
  ['foo{', 7673],
  ['x{}', 2608],
  ['{{}}', 4092],
  ['{}}', 14790],
  ['key:1', 6657],
  ['user:1000', 1649],
  ['somekey', 11058],
  ['{}foo', 9500],
  ['foo{bar', 15278],
  ['foo}bar{', 11073],
];

// Binary keys, fed to CLUSTER KEYSLOT through `redis-cli -x`.
const REDIS_KEYSLOT_BINARY: Array<[number[], number]> = [
  [[0x00, 0xff, 0x7b, 0x80, 0x7d], 4488],
  [[0x00, 0xff, 0xfe, 0x01], 12172],
  [[0x80], 4488],
];

t.test('known answers from real Redis', async (t) => {
  for (const [key, slot] of REDIS_KEYSLOT) t.equal(keySlotOfString(key), slot, JSON.stringify(key));
  for (const [bytes, slot] of REDIS_KEYSLOT_BINARY) {
    const buf = Uint8Array.from(bytes);
    t.equal(keySlot(buf, 0, buf.length), slot, `bytes ${bytes.join(',')}`);
  }
  // an empty first tag hashes the whole key; cluster-key-slot gets this one wrong
  t.not(clusterKeySlot('foo{}{bar}'), keySlotOfString('foo{}{bar}'));
  t.equal(keySlotOfString('foo{{bar}}zap'), keySlotOfString('{bar'));
  t.equal(keySlotOfString('foo{bar}{zap}'), keySlotOfString('bar'));
});

t.test('honours off/len within a larger buffer', async (t) => {
  const inner = new TextEncoder().encode('{user1000}.following');
  const buf = new Uint8Array(inner.length + 7).fill(0x7d);
  buf.set(inner, 3);
  t.equal(keySlot(buf, 3, inner.length), 3443);
  // a '}' just past the end must not close a tag that is open inside the range
  const open = new TextEncoder().encode('xx{abc}');
  t.equal(keySlot(open, 0, 6), keySlotOfString('xx{abc'));
});

// Reference built independently: bitwise CRC (no table) plus the Redis tag rule.
function refSlot(key: Uint8Array): number {
  let s = key.indexOf(0x7b);
  let e = s < 0 ? -1 : key.indexOf(0x7d, s + 1);
  if (s < 0 || e < 0 || e === s + 1) {
    s = -1;
    e = key.length;
  }
  let crc = 0;
  for (let i = s + 1; i < e; i++) {
    crc ^= key[i]! << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc & 0x3fff;
}

const keyArb = fc
  .array(fc.oneof(fc.constantFrom(0x7b, 0x7d, 0x61), fc.integer({ min: 0, max: 255 })), { maxLength: 40 })
  .map((a) => Uint8Array.from(a));

t.test('property: matches cluster-key-slot and a bitwise reference', async (t) => {
  fc.assert(
    fc.property(keyArb, (key) => {
      const slot = keySlot(key, 0, key.length);
      if (slot !== refSlot(key)) return false;
      // cluster-key-slot mishandles an empty first tag followed by a later '}' (see keyslot.ts)
      const s = key.indexOf(0x7b);
      const emptyFirstTag = s >= 0 && key[s + 1] === 0x7d;
      return emptyFirstTag || slot === clusterKeySlot(Array.from(key));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
      return keySlotOfString(s) === refSlot(new TextEncoder().encode(s));
    }),
    { numRuns: 500 },
  );
  t.pass('properties hold');
});
