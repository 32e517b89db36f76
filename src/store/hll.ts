/**
 * Redis's HyperLogLog (hyperloglog.c) on raw bytes, so that a value built here is byte for byte
 * the string Redis would build: the 16-byte "HYLL" header (magic, encoding, 3 unused bytes,
 * cached cardinality little endian with bit 63 = stale), then either the dense registers
 * (16384 × 6 bits, LSB first) or the sparse run-length opcodes (ZERO 00xxxxxx, XZERO 01xxxxxx
 * yyyyyyyy, VAL 1vvvvvxx). Elements are hashed with MurmurHash64A (seed 0xadc83b19) and the
 * count uses Ertl's improved estimator, as Redis ≥ 5 does.
 *
 * Everything works on (array, offset) pairs: dense values are updated in place in the arena,
 * sparse ones in a caller's scratch buffer. 64-bit arithmetic is done on 32-bit halves (no
 * BigInt on the PFADD path).
 */

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * 6 + 7) >> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
/** Redis's hll-sparse-max-bytes default: a sparse value that would grow beyond it turns dense. */
export const HLL_SPARSE_MAX_BYTES = 3000;
/** Length of a new (empty, sparse) HLL: header + XZERO:16384. */
export const HLL_EMPTY_SIZE = HLL_HDR_SIZE + 2;
const ENCODING_BYTE = 4;
const CARD = 8;
const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const ALPHA_INF = 0.72134752044448170368; // 0.5 / ln(2)

/** sparseSet() results besides 0 (unchanged) and 1 (updated). */
export const HLL_INVALID = -1;
export const HLL_PROMOTE = 2;

// ---------------------------------------------------------------------------------------------
// 64-bit helpers on (hi, lo) uint32 halves. Results go to module variables: no allocation.

let mHi = 0;
let mLo = 0;

/** (aHi:aLo × bHi:bLo) mod 2^64 into mHi:mLo, by 16-bit limbs (every partial sum < 2^53). */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a48 = aHi >>> 16;
  const a32 = aHi & 0xffff;
  const a16 = aLo >>> 16;
  const a00 = aLo & 0xffff;
  const b48 = bHi >>> 16;
  const b32 = bHi & 0xffff;
  const b16 = bLo >>> 16;
  const b00 = bLo & 0xffff;
  let c00 = a00 * b00;
  let c16 = c00 >>> 16;
  c00 &= 0xffff;
  c16 += a16 * b00;
  let c32 = c16 >>> 16;
  c16 &= 0xffff;
  c16 += a00 * b16;
  c32 += c16 >>> 16;
  c16 &= 0xffff;
  c32 += a32 * b00;
  let c48 = c32 >>> 16;
  c32 &= 0xffff;
  c32 += a16 * b16;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c32 += a00 * b32;
  c48 += c32 >>> 16;
  c32 &= 0xffff;
  c48 += a48 * b00 + a32 * b16 + a16 * b32 + a00 * b48;
  c48 &= 0xffff;
  mHi = ((c48 << 16) | c32) >>> 0;
  mLo = ((c16 << 16) | c00) >>> 0;
}

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

/** High and low halves of the last murmurHash64A() result. */
export const hash64 = { hi: 0, lo: 0 };

/** Redis's MurmurHash64A (endian-neutral, little-endian word loads) of u8[off, off+len). */
export function murmurHash64A(u8: Uint8Array, off: number, len: number, seed: number): void {
  mul64(0, len, M_HI, M_LO);
  let hHi = mHi;
  let hLo = (mLo ^ seed) >>> 0;
  const end = off + (len - (len & 7));
  let p = off;
  while (p !== end) {
    const kLo = (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24)) >>> 0;
    const kHi = (u8[p + 4]! | (u8[p + 5]! << 8) | (u8[p + 6]! << 16) | (u8[p + 7]! << 24)) >>> 0;
    mul64(kHi, kLo, M_HI, M_LO); // k *= m
    const xHi = mHi;
    const xLo = (mLo ^ (mHi >>> 15)) >>> 0; // k ^= k >> 47
    mul64(xHi, xLo, M_HI, M_LO); // k *= m
    mul64((hHi ^ mHi) >>> 0, (hLo ^ mLo) >>> 0, M_HI, M_LO); // h ^= k; h *= m
    hHi = mHi;
    hLo = mLo;
    p += 8;
  }
  const tail = len & 7;
  if (tail !== 0) {
    // The fall-through switch of the C code: byte i goes to bit 8·i.
    for (let i = tail - 1; i >= 0; i--) {
      const b = u8[p + i]!;
      if (i >= 4) hHi = (hHi ^ (b << (8 * (i - 4)))) >>> 0;
      else hLo = (hLo ^ (b << (8 * i))) >>> 0;
    }
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = mHi;
    hLo = mLo;
  }
  hLo = (hLo ^ (hHi >>> 15)) >>> 0; // h ^= h >> 47
  mul64(hHi, hLo, M_HI, M_LO);
  hHi = mHi;
  hLo = (mLo ^ (mHi >>> 15)) >>> 0;
  hash64.hi = hHi;
  hash64.lo = hLo;
}

/** Register index of the last patLen() call. */
export const pat = { index: 0 };

/**
 * hllPatLen: the register an element hashes to (in `pat.index`) and the length of the
 * 000…1 run in the remaining 50 bits, counting the final 1 (1..51).
 */
export function patLen(u8: Uint8Array, off: number, len: number): number {
  murmurHash64A(u8, off, len, 0xadc83b19);
  const lo = hash64.lo;
  pat.index = lo & (HLL_REGISTERS - 1);
  const low = lo >>> HLL_P; // hash bits 14..31
  if (low !== 0) return ctz(low) + 1;
  const hi = hash64.hi; // hash bits 32..63; bit 64 - 14 of the shifted hash is forced to 1
  if (hi !== 0) return 32 - HLL_P + ctz(hi) + 1;
  return HLL_Q + 1;
}

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// ---------------------------------------------------------------------------------------------
// Header.

/** isHLLObjectOrReply's checks: magic, known encoding, exact dense length. */
export function isHll(u8: Uint8Array, off: number, len: number): boolean {
  if (len < HLL_HDR_SIZE) return false;
  if (u8[off] !== 72 || u8[off + 1] !== 89 || u8[off + 2] !== 76 || u8[off + 3] !== 76) return false;
  const enc = u8[off + ENCODING_BYTE]!;
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || len === HLL_DENSE_SIZE;
}

export function encodingOf(u8: Uint8Array, off: number): number {
  return u8[off + ENCODING_BYTE]!;
}

/** Writes createHLLObject()'s value (sparse, XZERO:16384) at u8[off]; returns its length. */
export function writeEmpty(u8: Uint8Array, off: number): number {
  u8.fill(0, off, off + HLL_EMPTY_SIZE);
  u8[off] = 72; // H
  u8[off + 1] = 89; // Y
  u8[off + 2] = 76; // L
  u8[off + 3] = 76; // L
  u8[off + ENCODING_BYTE] = HLL_SPARSE;
  u8[off + HLL_HDR_SIZE] = 0x40 | ((HLL_REGISTERS - 1) >> 8);
  u8[off + HLL_HDR_SIZE + 1] = (HLL_REGISTERS - 1) & 0xff;
  return HLL_EMPTY_SIZE;
}

export function invalidateCache(u8: Uint8Array, off: number): void {
  u8[off + CARD + 7]! |= 0x80;
}

export function cacheValid(u8: Uint8Array, off: number): boolean {
  return (u8[off + CARD + 7]! & 0x80) === 0;
}

/**
 * The cached cardinality (bit 63 clear when valid). Values written by PFCOUNT are small, but a
 * value edited by hand can hold any 63-bit number: those come back as a bigint.
 */
export function readCache(u8: Uint8Array, off: number): number | bigint {
  const o = off + CARD;
  const lo = (u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24)) >>> 0;
  const hi = (u8[o + 4]! | (u8[o + 5]! << 8) | (u8[o + 6]! << 16) | (u8[o + 7]! << 24)) >>> 0;
  if (hi < 1 << 21) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeCache(u8: Uint8Array, off: number, card: number): void {
  const o = off + CARD;
  const lo = card % 4294967296;
  const hi = (card - lo) / 4294967296;
  for (let i = 0; i < 4; i++) {
    u8[o + i] = (lo >>> (8 * i)) & 0xff;
    u8[o + 4 + i] = (hi >>> (8 * i)) & 0xff;
  }
}

// ---------------------------------------------------------------------------------------------
// Dense representation: `regs` is the offset of the first register byte.

export function denseGet(u8: Uint8Array, regs: number, index: number): number {
  const byte = regs + ((index * 6) >> 3);
  const fb = (index * 6) & 7;
  // A register starting at bit 0 or 2 fits its byte; reading the next one would run past the
  // value for the last register (Redis reads the sds terminator there).
  if (fb <= 2) return (u8[byte]! >> fb) & 63;
  return ((u8[byte]! >> fb) | (u8[byte + 1]! << (8 - fb))) & 63;
}

export function denseSetRaw(u8: Uint8Array, regs: number, index: number, val: number): void {
  const byte = regs + ((index * 6) >> 3);
  const fb = (index * 6) & 7;
  u8[byte] = (u8[byte]! & ~(63 << fb)) | ((val << fb) & 0xff);
  if (fb > 2) {
    const fb8 = 8 - fb;
    u8[byte + 1] = (u8[byte + 1]! & ~(63 >> fb8)) | (val >> fb8);
  }
}

/** hllDenseSet: raise register `index` to `count`; true when it changed. */
export function denseSet(u8: Uint8Array, regs: number, index: number, count: number): boolean {
  if (count <= denseGet(u8, regs, index)) return false;
  denseSetRaw(u8, regs, index, count);
  return true;
}

function denseHisto(u8: Uint8Array, regs: number, histo: Int32Array): void {
  let r = regs;
  for (let j = 0; j < 1024; j++) {
    // 16 registers per 12 bytes, as hllDenseRegHisto unrolls it.
    const b0 = u8[r]!;
    const b1 = u8[r + 1]!;
    const b2 = u8[r + 2]!;
    const b3 = u8[r + 3]!;
    const b4 = u8[r + 4]!;
    const b5 = u8[r + 5]!;
    const b6 = u8[r + 6]!;
    const b7 = u8[r + 7]!;
    const b8 = u8[r + 8]!;
    const b9 = u8[r + 9]!;
    const b10 = u8[r + 10]!;
    const b11 = u8[r + 11]!;
    histo[b0 & 63]!++;
    histo[((b0 >> 6) | (b1 << 2)) & 63]!++;
    histo[((b1 >> 4) | (b2 << 4)) & 63]!++;
    histo[(b2 >> 2) & 63]!++;
    histo[b3 & 63]!++;
    histo[((b3 >> 6) | (b4 << 2)) & 63]!++;
    histo[((b4 >> 4) | (b5 << 4)) & 63]!++;
    histo[(b5 >> 2) & 63]!++;
    histo[b6 & 63]!++;
    histo[((b6 >> 6) | (b7 << 2)) & 63]!++;
    histo[((b7 >> 4) | (b8 << 4)) & 63]!++;
    histo[(b8 >> 2) & 63]!++;
    histo[b9 & 63]!++;
    histo[((b9 >> 6) | (b10 << 2)) & 63]!++;
    histo[((b10 >> 4) | (b11 << 4)) & 63]!++;
    histo[(b11 >> 2) & 63]!++;
    r += 12;
  }
}

// ---------------------------------------------------------------------------------------------
// Sparse representation. Opcode helpers take the opcode byte (and the next one for XZERO).

const isZero = (v: number): boolean => (v & 0xc0) === 0;
const isXZero = (v: number): boolean => (v & 0xc0) === 0x40;
const isVal = (v: number): boolean => (v & 0x80) !== 0;
const zeroLen = (v: number): number => (v & 0x3f) + 1;
const xzeroLen = (v: number, w: number): number => (((v & 0x3f) << 8) | w) + 1;
const valValue = (v: number): number => ((v >> 2) & 0x1f) + 1;
const valLen = (v: number): number => (v & 3) + 1;
const valByte = (val: number, len: number): number => (((val - 1) << 2) | (len - 1) | 0x80) & 0xff;

/**
 * Walks the sparse opcodes of u8[off, off+len) (whole value, header included) calling
 * `run(register, runLength, value)` for each non-zero run; zero runs only advance. Returns false
 * when the opcodes overflow or do not cover exactly 16384 registers (a corrupted value).
 */
function walkSparse(
  u8: Uint8Array,
  off: number,
  len: number,
  zeros: (n: number) => void,
  run: (idx: number, n: number, val: number) => void,
): boolean {
  let p = off + HLL_HDR_SIZE;
  const end = off + len;
  let idx = 0;
  while (p < end) {
    const v = u8[p]!;
    let n: number;
    if (isZero(v)) {
      n = zeroLen(v);
      p++;
    } else if (isXZero(v)) {
      n = xzeroLen(v, p + 1 < end ? u8[p + 1]! : 0);
      p += 2;
    } else {
      n = valLen(v);
      if (n + idx > HLL_REGISTERS) return false;
      run(idx, n, valValue(v));
      idx += n;
      p++;
      continue;
    }
    if (n + idx > HLL_REGISTERS) return false;
    zeros(n);
    idx += n;
  }
  return idx === HLL_REGISTERS;
}

let histoRef: Int32Array = new Int32Array(64);
let denseDst: Uint8Array = new Uint8Array(0);
let denseRegs = 0;
let maxRef: Uint8Array = new Uint8Array(0);
const histoZeros = (n: number): void => {
  histoRef[0]! += n;
};
const histoRun = (_idx: number, n: number, val: number): void => {
  histoRef[val]! += n;
};
const noZeros = (): void => {};
const denseRun = (idx: number, n: number, val: number): void => {
  for (let i = 0; i < n; i++) denseSetRaw(denseDst, denseRegs, idx + i, val);
};
const maxRun = (idx: number, n: number, val: number): void => {
  for (let i = 0; i < n; i++) if (val > maxRef[idx + i]!) maxRef[idx + i] = val;
};

/**
 * hllSparseToDense: writes the dense form of the sparse value src[off, off+len) to
 * dst[dOff, dOff + HLL_DENSE_SIZE) (header copied, cached cardinality included). False when the
 * sparse value is corrupted.
 */
export function sparseToDense(
  src: Uint8Array,
  off: number,
  len: number,
  dst: Uint8Array,
  dOff: number,
): boolean {
  dst.fill(0, dOff, dOff + HLL_DENSE_SIZE);
  dst.set(src.subarray(off, off + HLL_HDR_SIZE), dOff);
  dst[dOff + ENCODING_BYTE] = HLL_DENSE;
  denseDst = dst;
  denseRegs = dOff + HLL_HDR_SIZE;
  return walkSparse(src, off, len, noZeros, denseRun);
}

/** Length of the value after the last sparseSet() that returned 1. */
export const sparseOut = { len: 0 };
const seq = new Uint8Array(5);

/**
 * hllSparseSet on b[0, len) (the whole value, header included; b must have 3 spare bytes):
 * raises register `index` to `count`. Returns 1 when updated (new length in sparseOut.len, cache
 * invalidated), 0 when the register already was ≥ count, HLL_PROMOTE when the caller must turn
 * the value dense first (count > 32, or growth beyond `maxBytes`), HLL_INVALID when corrupted.
 * The opcode edits (split, then merge of equal neighbouring VALs) follow Redis step by step so
 * the bytes come out identical.
 */
export function sparseSet(
  b: Uint8Array,
  len: number,
  index: number,
  count: number,
  maxBytes: number,
): number {
  if (count > SPARSE_VAL_MAX_VALUE) return HLL_PROMOTE;
  const sparse = HLL_HDR_SIZE;
  let end = len;
  let p = sparse;
  let first = 0;
  let prev = -1;
  let span = 0;
  // Step 1: find the opcode covering `index`.
  while (p < end) {
    const v = b[p]!;
    let oplen = 1;
    if (isZero(v)) span = zeroLen(v);
    else if (isVal(v)) span = valLen(v);
    else {
      span = xzeroLen(v, p + 1 < end ? b[p + 1]! : 0);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return HLL_INVALID;
  const op = b[p]!;
  let next = isXZero(op) ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const zero = isZero(op);
  const xzero = isXZero(op);
  const runlen = span; // the length of the opcode at p, as Redis re-reads it

  let done = false;
  if (!zero && !xzero) {
    if (valValue(op) >= count) return 0; // case A: already as high
    if (runlen === 1) {
      b[p] = valByte(count, 1); // case B
      done = true;
    }
  }
  if (!done && zero && runlen === 1) {
    b[p] = valByte(count, 1); // case C
    done = true;
  }
  if (!done) {
    // Case D: split the run into up to three opcodes (at most 5 bytes).
    let n = 0;
    const last = first + span - 1;
    if (zero || xzero) {
      if (index !== first) n = putZeros(n, index - first);
      seq[n++] = valByte(count, 1);
      if (index !== last) n = putZeros(n, last - index);
    } else {
      const cur = valValue(op);
      if (index !== first) seq[n++] = valByte(cur, index - first);
      seq[n++] = valByte(count, 1);
      if (index !== last) seq[n++] = valByte(cur, last - index);
    }
    const oldlen = xzero ? 2 : 1;
    const delta = n - oldlen;
    if (delta > 0 && len + delta > maxBytes) return HLL_PROMOTE;
    if (delta !== 0 && next >= 0) b.copyWithin(next + delta, next, end);
    len += delta;
    for (let i = 0; i < n; i++) b[p + i] = seq[i]!;
    end += delta;
  }
  // Step 4: merge adjacent VALs with the same value, scanning at most 5 opcodes from prev.
  p = prev >= 0 ? prev : sparse;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const v = b[p]!;
    if (isXZero(v)) {
      p += 2;
      continue;
    } else if (isZero(v)) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(b[p + 1]!)) {
      const v1 = valValue(v);
      const w = b[p + 1]!;
      if (v1 === valValue(w)) {
        const l = valLen(v) + valLen(w);
        if (l <= SPARSE_VAL_MAX_LEN) {
          b[p + 1] = valByte(v1, l);
          b.copyWithin(p, p + 1, end);
          len--;
          end--;
          continue;
        }
      }
    }
    p++;
  }
  invalidateCache(b, 0);
  sparseOut.len = len;
  return 1;
}

function putZeros(n: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    const l = len - 1;
    seq[n] = (l >> 8) | 0x40;
    seq[n + 1] = l & 0xff;
    return n + 2;
  }
  seq[n] = len - 1;
  return n + 1;
}

// ---------------------------------------------------------------------------------------------
// Counting and merging.

const histo = new Int32Array(64);

/**
 * hllCount of the value u8[off, off+len) (dense or sparse); -1 when a sparse value is corrupted.
 */
export function count(u8: Uint8Array, off: number, len: number): number {
  histo.fill(0);
  if (u8[off + ENCODING_BYTE] === HLL_DENSE) denseHisto(u8, off + HLL_HDR_SIZE, histo);
  else {
    histoRef = histo;
    if (!walkSparse(u8, off, len, histoZeros, histoRun)) return -1;
  }
  return estimate(histo);
}

/** hllCount of HLL_RAW registers: one byte per register (multi-key PFCOUNT). */
export function countRaw(regs: Uint8Array): number {
  histo.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histo[regs[i]!]!++;
  return estimate(histo);
}

/** Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (arXiv:1702.01284). */
function estimate(h: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - h[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += h[j]!;
    z *= 0.5;
  }
  z += m * sigma(h[0]! / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

/**
 * hllMerge: max[i] = MAX(max[i], register i) over the value u8[off, off+len). False when a
 * sparse value is corrupted.
 */
export function merge(max: Uint8Array, u8: Uint8Array, off: number, len: number): boolean {
  if (u8[off + ENCODING_BYTE] === HLL_DENSE) {
    const regs = off + HLL_HDR_SIZE;
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(u8, regs, i);
      if (v > max[i]!) max[i] = v;
    }
    return true;
  }
  maxRef = max;
  return walkSparse(u8, off, len, noZeros, maxRun);
}
