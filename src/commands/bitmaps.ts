/**
 * Bitmap commands on string values (bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP.
 * Bit 0 is the most significant bit of the first byte. Values are arena strings like any
 * other; writes grow them with zero bytes (bit-util.ts). BITFIELD lives in bitfield.ts.
 */
import { E } from '../protocol/redis-errors.ts';
import { ENC_FORCED_RAW, ENCODING, TYPE_STRING } from '../store/record.ts';
import { bitOffsetArg, growForBits, grown } from './bit-util.ts';
import { bitfieldCommands } from './bitfield.ts';
import { NOTIFY_GENERIC, NOTIFY_STRING } from './notify-flags.ts';
import { argInt64, lookupString, storeBytes } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** redisPopcount over u8[off, off+count). */
export function popcount(u8: Uint8Array, off: number, count: number): number {
  let bits = 0;
  const end = off + count;
  for (let p = off; p < end; p++) bits += POPCOUNT[u8[p]!]!;
  return bits;
}

/**
 * redisBitpos: position of the first bit equal to `bit` in u8[off, off+count). Looking for 0
 * in all-ones bytes answers count·8 (the string is taken as zero padded); looking for 1 in
 * all-zero bytes answers -1.
 */
export function bitpos(u8: Uint8Array, off: number, count: number, bit: number): number {
  const skip = bit ? 0 : 0xff;
  let i = 0;
  while (i < count && u8[off + i] === skip) i++;
  if (i === count) return bit ? -1 : count * 8;
  const b = u8[off + i]!;
  for (let k = 0; k < 8; k++) if (((b >> (7 - k)) & 1) === bit) return i * 8 + k;
  return -1; // unreachable: the byte differs from skip
}

function setbit(c: ShardContext): void {
  const offset = bitOffsetArg(c, 1, 0);
  if (offset < 0) return;
  const on = argInt64(c.req, 2);
  if (on !== 0 && on !== 1) return c.out.error(E.BIT_VALUE);
  const h = growForBits(c, 0, offset);
  if (h < 0) return;
  const u8 = c.ks.arena.u8(h);
  const p = c.ks.valueOffset(h) + Math.floor(offset / 8);
  const bit = 7 - (offset & 7);
  const old = (u8[p]! >> bit) & 1;
  // Redis signals (and propagates) only a new key, a longer string or a flipped bit.
  if (grown.bytes > 0 || old !== on) {
    u8[p] = (u8[p]! & ~(1 << bit)) | (on << bit);
    c.modified(h, NOTIFY_STRING, 'setbit');
  }
  c.out.integer(old);
}

function getbit(c: ShardContext): void {
  const offset = bitOffsetArg(c, 1, 0);
  if (offset < 0) return;
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) {
    keyMiss(c, 0);
    return c.out.integer(0);
  }
  const ks = c.ks;
  const byte = Math.floor(offset / 8);
  if (byte >= ks.valueLength(h)) return c.out.integer(0);
  c.out.integer((ks.arena.u8(h)[ks.valueOffset(h) + byte]! >> (7 - (offset & 7))) & 1);
}

/** A 64-bit range argument clamped to ±2^53: lengths are far smaller, only order and sign matter. */
function rangeArg(c: ShardContext, i: number): number | null {
  const v = argInt64(c.req, i);
  if (v === null) return null;
  if (typeof v === 'number') return v;
  return v > 0n ? 2 ** 53 : -(2 ** 53);
}

/** Range state shared by BITCOUNT and BITPOS after rangeResolve(). */
const rng = { start: 0, end: 0, firstMask: 0, lastMask: 0 };

/** The index conversion both commands share (negative indexes, clamping, BIT edge masks). */
function rangeResolve(start: number, end: number, totlen: number, isbit: boolean): void {
  if (isbit) totlen *= 8;
  if (start < 0) start = totlen + start;
  if (end < 0) end = totlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= totlen) end = totlen - 1;
  rng.firstMask = 0;
  rng.lastMask = 0;
  if (isbit && start <= end) {
    // Bits of the edge bytes outside the range.
    rng.firstMask = ~((1 << (8 - (start & 7))) - 1) & 0xff;
    rng.lastMask = (1 << (7 - (end & 7))) - 1;
    start = Math.floor(start / 8);
    end = Math.floor(end / 8);
  }
  rng.start = start;
  rng.end = end;
}

/** BIT|BYTE argument: 1, 0, or -1 after a syntax error reply. */
function unitArg(c: ShardContext, i: number): number {
  if (c.req.is(i, 'BIT')) return 1;
  if (c.req.is(i, 'BYTE')) return 0;
  c.out.error(E.SYNTAX);
  return -1;
}

function bitcount(c: ShardContext): void {
  const { ks, req } = c;
  // Redis 7.0 looks the key up first: a missing key counts 0 whatever the arguments.
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) {
    keyMiss(c, 0);
    return c.out.integer(0);
  }
  const len = ks.valueLength(h);
  if (req.argc === 3 || req.argc === 4) {
    const start = rangeArg(c, 1);
    const end = start === null ? null : rangeArg(c, 2);
    if (start === null || end === null) return c.out.error(E.NOT_INTEGER);
    if (start < 0 && end < 0 && start > end) return c.out.integer(0);
    const isbit = req.argc === 4 ? unitArg(c, 3) : 0;
    if (isbit < 0) return;
    rangeResolve(start, end, len, isbit === 1);
  } else if (req.argc === 1) {
    rng.start = 0;
    rng.end = len - 1;
    rng.firstMask = rng.lastMask = 0;
  } else return c.out.error(E.SYNTAX);
  const { start, end, firstMask, lastMask } = rng;
  if (start > end) return c.out.integer(0);
  const u8 = ks.arena.u8(h);
  const vo = ks.valueOffset(h);
  let n = popcount(u8, vo + start, end - start + 1);
  if (firstMask !== 0) n -= POPCOUNT[u8[vo + start]! & firstMask]!;
  if (lastMask !== 0) n -= POPCOUNT[u8[vo + end]! & lastMask]!;
  c.out.integer(n);
}

const one = new Uint8Array(1);

function bitposCmd(c: ShardContext): void {
  const { ks, req } = c;
  const bit = argInt64(req, 1);
  if (bit === null) return c.out.error(E.NOT_INTEGER);
  if (bit !== 0 && bit !== 1) return c.out.error(E.BITPOS_BIT);
  const h = lookupString(c, 0);
  if (h < 0) return;
  // A missing key is an infinite run of zeros.
  if (h === 0) return c.out.integer(bit ? -1 : 0);
  const len = ks.valueLength(h);
  let endGiven = false;
  if (req.argc >= 3 && req.argc <= 5) {
    const start = rangeArg(c, 2);
    if (start === null) return c.out.error(E.NOT_INTEGER);
    const isbit = req.argc === 5 ? unitArg(c, 4) : 0;
    if (isbit < 0) return;
    let end: number | null;
    if (req.argc >= 4) {
      end = rangeArg(c, 3);
      if (end === null) return c.out.error(E.NOT_INTEGER);
      endGiven = true;
    } else end = isbit ? len * 8 + 7 : len - 1;
    rangeResolve(start, end, len, isbit === 1);
  } else if (req.argc === 2) {
    rng.start = 0;
    rng.end = len - 1;
    rng.firstMask = rng.lastMask = 0;
  } else return c.out.error(E.SYNTAX);
  let { start } = rng;
  const { end, firstMask, lastMask } = rng;
  if (start > end) return c.out.integer(-1);
  const u8 = ks.arena.u8(h);
  const vo = ks.valueOffset(h);
  let bytes = end - start + 1;
  let pos: number;
  search: {
    if (firstMask !== 0) {
      let t = bit ? u8[vo + start]! & ~firstMask : u8[vo + start]! | firstMask;
      if (lastMask !== 0 && bytes === 1) t = bit ? t & ~lastMask : t | lastMask;
      one[0] = t & 0xff;
      pos = bitpos(one, 0, 1, bit);
      if (bytes === 1 || (pos !== -1 && pos !== 8)) break search;
      start++;
      bytes--;
    }
    // The last byte is handled apart when it has bits outside the range.
    const cur = bytes - (lastMask !== 0 ? 1 : 0);
    if (cur > 0) {
      pos = bitpos(u8, vo + start, cur, bit);
      if (bytes === cur || (pos !== -1 && pos !== cur * 8)) break search;
      start += cur;
      bytes -= cur;
    }
    one[0] = (bit ? u8[vo + end]! & ~lastMask : u8[vo + end]! | lastMask) & 0xff;
    pos = bitpos(one, 0, 1, bit);
  }
  // With an explicit end the string is not zero padded to the right: no clear bit in range.
  if (endGiven && bit === 0 && pos === bytes * 8) return c.out.integer(-1);
  if (pos !== -1) pos += start * 8;
  c.out.integer(pos);
}

const AND = 0;
const OR = 1;
const XOR = 2;
const NOT = 3;

/** BITOP op destkey srckey…: route multi, so every key is local here. */
function bitop(c: ShardContext): void {
  const { ks, req } = c;
  let op: number;
  if (req.is(0, 'AND')) op = AND;
  else if (req.is(0, 'OR')) op = OR;
  else if (req.is(0, 'XOR')) op = XOR;
  else if (req.is(0, 'NOT')) op = NOT;
  else return c.out.error(E.SYNTAX);
  if (op === NOT && req.argc !== 3) return c.out.error(E.BITOP_NOT);
  const n = req.argc - 2;
  const srcU8: Uint8Array[] = [];
  const srcOff: number[] = [];
  const srcLen: number[] = [];
  let maxlen = 0;
  for (let j = 0; j < n; j++) {
    const h = ks.lookup(req.db, req.u8, req.off[j + 2]!, req.len[j + 2]!);
    if (h === 0) {
      srcU8.push(one);
      srcOff.push(0);
      srcLen.push(0);
      continue;
    }
    if (ks.type(h) !== TYPE_STRING) return c.out.error(E.WRONGTYPE);
    const len = ks.valueLength(h);
    srcU8.push(ks.arena.u8(h));
    srcOff.push(ks.valueOffset(h));
    srcLen.push(len);
    if (len > maxlen) maxlen = len;
  }
  let res: Uint8Array | null = null;
  if (maxlen > 0) {
    // Missing bytes of shorter strings count as zeros.
    res = new Uint8Array(maxlen);
    const l0 = srcLen[0]!;
    res.set(srcU8[0]!.subarray(srcOff[0]!, srcOff[0]! + l0));
    if (op === NOT) for (let j = 0; j < maxlen; j++) res[j] = ~res[j]! & 0xff;
    for (let i = 1; i < n; i++) {
      const s = srcU8[i]!;
      const o = srcOff[i]!;
      const l = srcLen[i]!;
      if (op === AND) {
        for (let j = 0; j < l; j++) res[j]! &= s[o + j]!;
        res.fill(0, l);
      } else if (op === OR) for (let j = 0; j < l; j++) res[j]! |= s[o + j]!;
      else for (let j = 0; j < l; j++) res[j]! ^= s[o + j]!;
    }
  }
  const h = ks.lookup(req.db, req.u8, req.off[1]!, req.len[1]!);
  if (res !== null) {
    // setKey: any old value and its TTL are replaced; Redis reports a 'set' event.
    const nh = storeBytes(c, h, 1, res, 0);
    ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = ENC_FORCED_RAW;
    c.modified(nh, NOTIFY_STRING, 'set');
  } else if (h !== 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    ks.removeFound(h);
  }
  c.out.integer(maxlen);
}

export const bitmapCommands: CommandDef[] = [
  { name: 'setbit', route: 'key', shard: setbit },
  { name: 'getbit', route: 'key', shard: getbit },
  { name: 'bitcount', route: 'key', shard: bitcount },
  { name: 'bitpos', route: 'key', shard: bitposCmd },
  { name: 'bitop', route: 'multi', shard: bitop },
  ...bitfieldCommands,
];
