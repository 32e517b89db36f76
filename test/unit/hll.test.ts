/**
 * The HyperLogLog algorithm (src/store/hll.ts): the 32-bit-halves MurmurHash64A against a
 * BigInt transcription of the C code, register access, sparse/dense agreement (as Redis's
 * PFSELFTEST checks it), the estimator's error, and corrupted sparse values.
 */
import t from 'tap';
import fc from 'fast-check';
import * as hll from '../../src/store/hll.ts';

const M = 0xc6a4a7935bd1e995n;
const U = (v: bigint): bigint => BigInt.asUintN(64, v);

/** MurmurHash64A exactly as hyperloglog.c writes it, in 64-bit BigInt arithmetic. */
function murmurRef(data: Uint8Array, seed: bigint): bigint {
  const len = data.length;
  let h = U(seed ^ U(BigInt(len) * M));
  let p = 0;
  const end = len - (len & 7);
  while (p !== end) {
    let k = 0n;
    for (let i = 7; i >= 0; i--) k = (k << 8n) | BigInt(data[p + i]!);
    k = U(k * M);
    k ^= k >> 47n;
    k = U(k * M);
    h ^= k;
    h = U(h * M);
    p += 8;
  }
  const tail = len & 7;
  if (tail > 0) {
    for (let i = tail - 1; i >= 0; i--) h ^= BigInt(data[p + i]!) << BigInt(8 * i);
    h = U(h * M);
  }
  h ^= h >> 47n;
  h = U(h * M);
  h ^= h >> 47n;
  return h;
}

const hashOf = (b: Uint8Array): bigint => {
  hll.murmurHash64A(b, 0, b.length, 0xadc83b19);
  return (BigInt(hll.hash64.hi) << 32n) | BigInt(hll.hash64.lo);
};

t.test('MurmurHash64A on 32-bit halves equals the 64-bit reference', (t) => {
  for (let len = 0; len <= 40; len++) {
    const b = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len * 11 + 0xf0) & 0xff);
    t.equal(hashOf(b), murmurRef(b, 0xadc83b19n), `length ${len}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => hashOf(b) === murmurRef(b, 0xadc83b19n)),
    { numRuns: 2000 },
  );
  // An offset into a larger array reads the same bytes.
  const big = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
  hll.murmurHash64A(big, 5, 19, 0xadc83b19);
  const at = (BigInt(hll.hash64.hi) << 32n) | BigInt(hll.hash64.lo);
  t.equal(at, murmurRef(big.subarray(5, 24), 0xadc83b19n));
  t.end();
});

t.test('patLen: register index from the low 14 bits, run length of the rest', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 30 }), (b) => {
      const h = murmurRef(b, 0xadc83b19n);
      let rest = (h >> 14n) | (1n << 50n);
      let count = 1;
      while ((rest & 1n) === 0n) {
        count++;
        rest >>= 1n;
      }
      return hll.patLen(b, 0, b.length) === count && hll.pat.index === Number(h & 16383n);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 random elements');
  t.end();
});

t.test('dense registers: every value read back, neighbours untouched', (t) => {
  const buf = new Uint8Array(hll.HLL_DENSE_SIZE);
  const ref = new Uint8Array(hll.HLL_REGISTERS);
  let x = 12345;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < hll.HLL_REGISTERS; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      ref[i] = x >>> 26; // 0..63
      hll.denseSetRaw(buf, hll.HLL_HDR_SIZE, i, ref[i]!);
    }
    let bad = 0;
    for (let i = 0; i < hll.HLL_REGISTERS; i++) if (hll.denseGet(buf, hll.HLL_HDR_SIZE, i) !== ref[i]) bad++;
    t.equal(bad, 0, `round ${round}: all 16384 registers read back`);
  }
  t.end();
});

/** A sparse HLL fed through sparseSet with promotion, like PFADD does. */
class Sketch {
  buf = new Uint8Array(hll.HLL_DENSE_SIZE + 8);
  len = hll.writeEmpty(this.buf, 0);
  dense = false;
  add(ele: Uint8Array): number {
    const count = hll.patLen(ele, 0, ele.length);
    const idx = hll.pat.index;
    if (this.dense) return hll.denseSet(this.buf, hll.HLL_HDR_SIZE, idx, count) ? 1 : 0;
    const r = hll.sparseSet(this.buf, this.len, idx, count, hll.HLL_SPARSE_MAX_BYTES);
    if (r === 1) this.len = hll.sparseOut.len;
    if (r !== hll.HLL_PROMOTE) return r;
    const d = new Uint8Array(hll.HLL_DENSE_SIZE + 8);
    if (!hll.sparseToDense(this.buf, 0, this.len, d, 0)) throw new Error('corrupt');
    this.buf = d;
    this.len = hll.HLL_DENSE_SIZE;
    this.dense = true;
    hll.denseSet(d, hll.HLL_HDR_SIZE, idx, count);
    return 1;
  }
}

t.test('sparse and dense agree; the error stays within bounds (PFSELFTEST)', (t) => {
  const sparse = new Sketch();
  const dense = new Uint8Array(hll.HLL_DENSE_SIZE);
  dense.set(Buffer.from('HYLL'));
  const ele = new Uint8Array(8);
  const dv = new DataView(ele.buffer);
  const relerr = 1.04 / Math.sqrt(hll.HLL_REGISTERS);
  let checkpoint = 1;
  let sawSparse = false;
  for (let j = 1; j <= 1_000_000; j++) {
    dv.setUint32(0, j ^ 0x5bd1e995, true);
    dv.setUint32(4, 0x9e3779b9, true);
    const count = hll.patLen(ele, 0, 8);
    hll.denseSet(dense, hll.HLL_HDR_SIZE, hll.pat.index, count);
    sparse.add(ele);
    if (j !== checkpoint) continue;
    if (j < hll.HLL_SPARSE_MAX_BYTES / 2 && !sparse.dense) sawSparse = true;
    const cd = hll.count(dense, 0, hll.HLL_DENSE_SIZE);
    const cs = hll.count(sparse.buf, 0, sparse.len);
    t.equal(cs, cd, `${j}: sparse (${sparse.dense ? 'promoted' : 'sparse'}) and dense counts agree`);
    if (!sparse.dense) {
      const conv = new Uint8Array(hll.HLL_DENSE_SIZE);
      t.ok(hll.sparseToDense(sparse.buf, 0, sparse.len, conv, 0));
      t.same(conv.subarray(16), dense.subarray(16), `${j}: sparseToDense gives the dense registers`);
    }
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    t.ok(Math.abs(cd - j) <= maxerr, `${j}: estimate ${cd} within ${maxerr}`);
    checkpoint *= 10;
  }
  t.ok(sawSparse, 'small cardinalities use the sparse encoding');
  t.ok(sparse.dense, 'large ones were promoted to dense');
  t.end();
});

t.test('sparse values stay within hll-sparse-max-bytes and use all opcode kinds', (t) => {
  const s = new Sketch();
  let maxLen = 0;
  for (let j = 0; !s.dense; j++) {
    s.add(Buffer.from(`e${j}`));
    if (!s.dense) maxLen = Math.max(maxLen, s.len);
  }
  t.ok(maxLen <= hll.HLL_SPARSE_MAX_BYTES, `largest sparse value ${maxLen} bytes`);
  t.ok(maxLen > 2000, 'promotion came from size, not from a large register');
  t.end();
});

t.test('validity and corruption', (t) => {
  t.equal(hll.HLL_DENSE_SIZE, 12304, 'dense: 16-byte header + 16384 six-bit registers');
  const dense = new Uint8Array(hll.HLL_DENSE_SIZE);
  const s = new Sketch();
  t.ok(hll.sparseToDense(s.buf, 0, s.len, dense, 0));
  t.ok(hll.isHll(dense, 0, hll.HLL_DENSE_SIZE), 'a converted value is a valid dense HLL');
  t.equal(hll.encodingOf(dense, 0), hll.HLL_DENSE);
  const b = new Uint8Array(64);
  const n = hll.writeEmpty(b, 0);
  t.equal(n, 18);
  t.ok(hll.isHll(b, 0, n));
  t.equal(hll.count(b, 0, n), 0);
  t.notOk(hll.isHll(b, 0, 15), 'shorter than the header');
  const bad = b.slice(0, n);
  bad[4] = 2;
  t.notOk(hll.isHll(bad, 0, n), 'unknown encoding');
  bad[4] = 0;
  t.notOk(hll.isHll(bad, 0, n), 'dense with the wrong length');
  // XZERO:16384 followed by one more register: overflow.
  b[n] = 0x80;
  t.equal(hll.count(b, 0, n + 1), -1, 'too many registers');
  t.equal(hll.sparseSet(b, n + 1, 5, 3, 3000), 1, 'setting before the corruption still works');
  t.equal(hll.count(b, 0, 17), -1, 'too few registers');
  const max = new Uint8Array(hll.HLL_REGISTERS);
  t.notOk(hll.merge(max, b, 0, 17), 'merge refuses a corrupted value');
  t.equal(hll.sparseSet(b, 16, 0, 1, 3000), hll.HLL_INVALID, 'no opcode at all');
  const e = new Uint8Array(32);
  const len = hll.writeEmpty(e, 0);
  t.equal(hll.sparseSet(e, len, 7, 33, 3000), hll.HLL_PROMOTE, 'a register above 32 needs dense');
  t.equal(hll.sparseSet(e, len, 7, 32, 3000), 1, '32 still fits a VAL opcode');
  t.equal(hll.sparseSet(e, hll.sparseOut.len, 9, 5, 21), hll.HLL_PROMOTE, 'growing past the limit');
  t.end();
});

t.test('cached cardinality: little endian, bit 63 marks it stale', (t) => {
  const b = new Uint8Array(18);
  hll.writeEmpty(b, 0);
  t.ok(hll.cacheValid(b, 0));
  hll.writeCache(b, 0, 0x123456789a);
  t.equal(hll.readCache(b, 0), 0x123456789a);
  t.same([...b.subarray(8, 16)], [0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, 0]);
  b.set([0x59, 0x04, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x4c], 8); // a hand-edited header
  t.equal(hll.readCache(b, 0), 0x4c4c000000000459n, '63-bit values come back exactly');
  hll.invalidateCache(b, 0);
  t.notOk(hll.cacheValid(b, 0));
  t.end();
});
