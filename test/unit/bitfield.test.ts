/**
 * BITFIELD arithmetic (src/commands/bitfield.ts): field get/set against a bit-string model,
 * overflow detection against exact arithmetic for in-range operands, and the C code's
 * int64/uint64 quirks for out-of-range SET values (checked against redis-server 7.0.15).
 */
import t from 'tap';
import fc from 'fast-check';
import {
  checkSigned,
  checkUnsigned,
  FAIL,
  getSigned,
  getUnsigned,
  ovf,
  SAT,
  setField,
  WRAP,
} from '../../src/commands/bitfield.ts';

/** The bits of a byte array as a '0'/'1' string, bit 0 = MSB of byte 0. */
const bitsOf = (b: Uint8Array): string => [...b].map((x) => x.toString(2).padStart(8, '0')).join('');

t.test('get/set fields at any offset and width match a bit-string model', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 64 }),
      fc.nat(),
      fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }),
      (bytes, bits, offRaw, value) => {
        const total = bytes.length * 8;
        if (bits > total) return true;
        const offset = offRaw % (total - bits + 1);
        const before = bitsOf(bytes);
        const buf = Uint8Array.from([0xaa, ...bytes, 0x55]); // guards around the value
        setField(buf, 1, offset, bits, value);
        const field = BigInt.asUintN(bits, value).toString(2).padStart(bits, '0');
        const want = before.slice(0, offset) + field + before.slice(offset + bits);
        if (bitsOf(buf.subarray(1, 1 + bytes.length)) !== want) return false;
        if (buf[0] !== 0xaa || buf[buf.length - 1] !== 0x55) return false;
        const u = getUnsigned(buf, 1, bytes.length, offset, bits);
        const s = getSigned(buf, 1, bytes.length, offset, bits);
        return u === BigInt.asUintN(bits, value) && s === BigInt.asIntN(bits, value);
      },
    ),
    { numRuns: 3000 },
  );
  t.pass('3000 random fields');
  t.end();
});

t.test('reads past the end of the string see zeros', (t) => {
  const b = Uint8Array.from([0xff, 0xff]);
  t.equal(getUnsigned(b, 0, 2, 12, 8), 0xf0n);
  t.equal(getSigned(b, 0, 2, 8, 16), -256n);
  t.equal(getUnsigned(b, 0, 2, 100, 63), 0n);
  t.equal(getSigned(b, 0, 1, 0, 64), BigInt.asIntN(64, 0xff00000000000000n));
  t.end();
});

t.test('INCRBY overflow of in-range values equals exact arithmetic', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.boolean(),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      fc.constantFrom(WRAP, SAT, FAIL),
      (bits, signed, rawValue, incr, ow) => {
        if (!signed && bits === 64) bits = 63;
        const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
        const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
        const span = max - min + 1n;
        const value = min + (((rawValue % span) + span) % span);
        const sum = value + incr;
        const want = sum > max ? 1 : sum < min ? -1 : 0;
        const got = signed ? checkSigned(value, incr, bits, ow) : checkUnsigned(value, incr, bits, ow);
        if (got !== want) return false;
        if (got === 0 || ow === FAIL) return true;
        const wrapped = signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
        return ovf.limit === (ow === WRAP ? wrapped : got > 0 ? max : min);
      },
    ),
    { numRuns: 5000 },
  );
  t.pass('5000 random operations');
  t.end();
});

t.test("SET of out-of-range values classifies as the C code does (Redis's replies)", (t) => {
  // BITFIELD q OVERFLOW SAT SET u8 0 -1 stores 255: -1 as uint64 is above the maximum.
  t.equal(checkUnsigned(BigInt.asUintN(64, -1n), 0n, 8, SAT), 1);
  t.equal(ovf.limit, 255n);
  // i63 / i62 with INT64_MIN: the wrapped int64 maxincr makes it an overflow (SAT → max).
  t.equal(checkSigned(-(1n << 63n), 0n, 63, SAT), 1);
  t.equal(ovf.limit, (1n << 62n) - 1n);
  t.equal(checkSigned(-(1n << 63n), 0n, 62, SAT), 1);
  t.equal(ovf.limit, (1n << 61n) - 1n);
  // Just below i62's minimum: an underflow (SAT → min).
  t.equal(checkSigned(-(1n << 62n) - 1n, 0n, 62, SAT), -1);
  t.equal(ovf.limit, -(1n << 61n));
  t.equal(checkSigned(300n, 0n, 8, WRAP), 1);
  t.equal(ovf.limit, 44n);
  t.equal(checkSigned(-(1n << 63n), -1n, 64, WRAP), -1);
  t.equal(ovf.limit, (1n << 63n) - 1n);
  t.end();
});
