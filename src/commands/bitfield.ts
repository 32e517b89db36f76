/**
 * BITFIELD and BITFIELD_RO (bitops.c bitfieldGeneric): signed/unsigned integers of 1..64 bits
 * (u64 excluded) at arbitrary bit offsets, with WRAP/SAT/FAIL overflow. The field arithmetic
 * uses BigInt and reproduces the C code's int64/uint64 conversions, including its quirks (a
 * negative SET value on an unsigned field saturates to the maximum).
 */
import { scanInt64 } from '../protocol/numbers.ts';
import { E } from '../protocol/redis-errors.ts';
import { TYPE_STRING } from '../store/record.ts';
import { bitOffsetArg, growForBits, grown } from './bit-util.ts';
import { NOTIFY_STRING } from './notify-flags.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

export const WRAP = 0;
export const SAT = 1;
export const FAIL = 2;

/**
 * Unsigned field of `bits` bits at bit `offset` of u8[base, base+len); bytes past the end read
 * as zeros (Redis copies them into a zeroed buffer for GET).
 */
export function getUnsigned(u8: Uint8Array, base: number, len: number, offset: number, bits: number): bigint {
  // Up to 32 bits accumulate exactly in a double; wider fields in two halves.
  const highBits = bits > 32 ? bits - 32 : 0;
  let hi = 0;
  let lo = 0;
  for (let j = 0; j < bits; j++, offset++) {
    const byte = Math.floor(offset / 8);
    const b = byte < len ? (u8[base + byte]! >> (7 - (offset & 7))) & 1 : 0;
    if (j < highBits) hi = hi * 2 + b;
    else lo = lo * 2 + b;
  }
  return highBits > 0 ? (BigInt(hi) << 32n) | BigInt(lo) : BigInt(lo);
}

export function getSigned(u8: Uint8Array, base: number, len: number, offset: number, bits: number): bigint {
  return BigInt.asIntN(bits, getUnsigned(u8, base, len, offset, bits));
}

/** Writes the low `bits` bits of `value` at bit `offset` (the string is long enough). */
export function setField(u8: Uint8Array, base: number, offset: number, bits: number, value: bigint): void {
  const lo = Number(BigInt.asUintN(32, value));
  const hi = Number(BigInt.asUintN(32, value >> 32n));
  for (let j = 0; j < bits; j++, offset++) {
    const k = bits - 1 - j;
    const b = k >= 32 ? (hi >>> (k - 32)) & 1 : (lo >>> k) & 1;
    const p = base + Math.floor(offset / 8);
    const bit = 7 - (offset & 7);
    u8[p] = (u8[p]! & ~(1 << bit)) | (b << bit);
  }
}

/** The value an overflowing operation stores (WRAP, SAT), set by the check functions. */
export const ovf = { limit: 0n };

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const I64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * checkUnsignedBitfieldOverflow: `value` as uint64, `incr` as int64. Returns 1 (overflow), -1
 * (underflow) or 0, and for WRAP/SAT the value to store in ovf.limit.
 */
export function checkUnsigned(value: bigint, incr: bigint, bits: number, owtype: number): number {
  const max = (1n << BigInt(bits)) - 1n;
  const maxincr = I64(max - value);
  const minincr = I64(-value);
  if (value > max || (incr > 0n && incr > maxincr)) {
    if (owtype === WRAP) ovf.limit = BigInt.asUintN(bits, value + incr);
    else if (owtype === SAT) ovf.limit = max;
    return 1;
  }
  if (incr < 0n && incr < minincr) {
    if (owtype === WRAP) ovf.limit = BigInt.asUintN(bits, value + incr);
    else if (owtype === SAT) ovf.limit = 0n;
    return -1;
  }
  return 0;
}

/**
 * checkSignedBitfieldOverflow: `value` and `incr` as int64. The limits are computed with the
 * C code's wrapping int64 arithmetic, so out-of-range SET values classify exactly as in Redis.
 */
export function checkSigned(value: bigint, incr: bigint, bits: number, owtype: number): number {
  const max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = I64(U64(max) - U64(value));
  const minincr = I64(min - value);
  const wide = bits !== 64;
  if (value > max || (wide && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
    if (owtype === WRAP) ovf.limit = BigInt.asIntN(bits, value + incr);
    else if (owtype === SAT) ovf.limit = max;
    return 1;
  }
  if (value < min || (wide && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
    if (owtype === WRAP) ovf.limit = BigInt.asIntN(bits, value + incr);
    else if (owtype === SAT) ovf.limit = min;
    return -1;
  }
  return 0;
}

const GET = 0;
const SET = 1;
const INCRBY = 2;

/** Parsed operations (reused between calls). */
const ops: {
  opcode: number;
  offset: number;
  value: bigint;
  owtype: number;
  bits: number;
  signed: boolean;
}[] = [];

/** "i<1..64>" or "u<1..63>" at argument i: bits (negative for signed), 0 after an error reply. */
function typeArg(c: ShardContext, i: number): number {
  const req = c.req;
  const o = req.off[i]!;
  const first = req.len[i]! > 0 ? req.u8[o] : 0;
  const signed = first === 105; // 'i'
  if (signed || first === 117) {
    const bits = scanInt64(req.u8, o + 1, req.len[i]! - 1);
    if (bits >= 1 && bits <= (signed ? 64 : 63)) return signed ? -bits : bits;
  }
  c.out.error(E.BITFIELD_TYPE);
  return 0;
}

function bitfieldGeneric(c: ShardContext, readonlyCmd: boolean): void {
  const { ks, req, out } = c;
  ops.length = 0;
  let owtype = WRAP;
  let readonly = true;
  let highest = 0;
  for (let j = 1; j < req.argc;) {
    const rem = req.argc - j - 1;
    let opcode: number;
    if (req.is(j, 'GET') && rem >= 2) opcode = GET;
    else if (req.is(j, 'SET') && rem >= 3) opcode = SET;
    else if (req.is(j, 'INCRBY') && rem >= 3) opcode = INCRBY;
    else if (req.is(j, 'OVERFLOW') && rem >= 1) {
      if (req.is(j + 1, 'WRAP')) owtype = WRAP;
      else if (req.is(j + 1, 'SAT')) owtype = SAT;
      else if (req.is(j + 1, 'FAIL')) owtype = FAIL;
      else return out.error(E.BITFIELD_OVERFLOW);
      j += 2;
      continue;
    } else return out.error(E.SYNTAX);
    const t = typeArg(c, j + 1);
    if (t === 0) return;
    const bits = t < 0 ? -t : t;
    const offset = bitOffsetArg(c, j + 2, bits);
    if (offset < 0) return;
    let value = 0n;
    if (opcode !== GET) {
      readonly = false;
      if (highest < offset + bits - 1) highest = offset + bits - 1;
      const v = argInt64(req, j + 3);
      if (v === null) return out.error(E.NOT_INTEGER);
      value = BigInt(v);
    }
    ops.push({ opcode, offset, value, owtype, bits, signed: t < 0 });
    j += opcode === GET ? 3 : 4;
  }
  let h: number;
  if (readonly) {
    h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
    if (h !== 0 && ks.type(h) !== TYPE_STRING) return out.error(E.WRONGTYPE);
  } else {
    if (readonlyCmd) return out.error(E.BITFIELD_RO);
    h = growForBits(c, 0, highest);
    if (h < 0) return;
  }
  const u8 = h === 0 ? null : ks.arena.u8(h);
  const base = h === 0 ? 0 : ks.valueOffset(h);
  const len = h === 0 ? 0 : ks.valueLength(h);
  let changes = 0;
  out.arrayHeader(ops.length);
  for (const op of ops) {
    if (op.opcode === GET) {
      if (u8 === null) out.integer(0);
      else out.bigint((op.signed ? getSigned : getUnsigned)(u8, base, len, op.offset, op.bits));
      continue;
    }
    const w = u8!;
    let oldval: bigint;
    let newval: bigint;
    let retval: bigint;
    let overflow: number;
    if (op.signed) {
      oldval = getSigned(w, base, len, op.offset, op.bits);
      if (op.opcode === INCRBY) {
        overflow = checkSigned(oldval, op.value, op.bits, op.owtype);
        newval = overflow !== 0 ? ovf.limit : oldval + op.value;
        retval = newval;
      } else {
        newval = op.value;
        overflow = checkSigned(newval, 0n, op.bits, op.owtype);
        if (overflow !== 0) newval = ovf.limit;
        retval = oldval;
      }
    } else {
      oldval = getUnsigned(w, base, len, op.offset, op.bits);
      if (op.opcode === INCRBY) {
        overflow = checkUnsigned(oldval, op.value, op.bits, op.owtype);
        newval = overflow !== 0 ? ovf.limit : U64(oldval + op.value);
        retval = newval;
      } else {
        newval = U64(op.value);
        overflow = checkUnsigned(newval, 0n, op.bits, op.owtype);
        if (overflow !== 0) newval = ovf.limit;
        retval = oldval;
      }
    }
    // FAIL: nothing is written and the reply is a null.
    if (overflow !== 0 && op.owtype === FAIL) {
      out.nullBulk();
      continue;
    }
    out.bigint(retval);
    setField(w, base, op.offset, op.bits, newval);
    if (grown.bytes > 0 || oldval !== newval) changes++;
  }
  // One notification for the whole command, only when something changed (as Redis 7.0.15).
  if (changes > 0) c.modified(h, NOTIFY_STRING, 'setbit');
}

export const bitfieldCommands: CommandDef[] = [
  { name: 'bitfield', route: 'key', shard: (c) => bitfieldGeneric(c, false) },
  { name: 'bitfield_ro', route: 'key', shard: (c) => bitfieldGeneric(c, true) },
];
