import { E, wrongArity } from '../protocol/redis-errors.ts';
import { ENC_FORCED_RAW, ENCODING, TYPE_STRING } from '../store/record.ts';
import { NOTIFY_GENERIC, NOTIFY_STRING } from './notify-flags.ts';
import { argInt64, expireArg, lookupString, replyValue, storeArg } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

const NX = 1;
const XX = 2;
const GET = 4;
const KEEPTTL = 8;
const PERSIST = 16;
const EXPIRY = 32;

/**
 * Parses SET / GETEX options from argument `from` (Redis parseExtendedStringArgumentsOrReply).
 * Returns flags, -1 after an error reply. The expire argument is only located here
 * (`parsed`); resolveExpire() validates it, as Redis does, at the command's own point: SET
 * before anything else, GETEX only once the key was found to be a string.
 */
const parsed = { expireAt: 0, expIdx: -1, unit: 1000, absolute: false };
function parseOptions(c: ShardContext, from: number, isSet: boolean): number {
  const req = c.req;
  let flags = 0;
  let expIdx = -1;
  let unit = 1000;
  let absolute = false;
  for (let j = from; j < req.argc; j++) {
    const hasNext = j + 1 < req.argc;
    if (isSet && req.is(j, 'NX') && !(flags & XX)) flags |= NX;
    else if (isSet && req.is(j, 'XX') && !(flags & NX)) flags |= XX;
    else if (isSet && req.is(j, 'GET')) flags |= GET;
    else if (isSet && req.is(j, 'KEEPTTL') && !(flags & (EXPIRY | PERSIST))) flags |= KEEPTTL;
    else if (!isSet && req.is(j, 'PERSIST') && !(flags & (EXPIRY | KEEPTTL))) flags |= PERSIST;
    else if (hasNext && !(flags & (EXPIRY | KEEPTTL | PERSIST)) && isExpiryWord(c, j)) {
      flags |= EXPIRY;
      unit = req.is(j, 'EX') || req.is(j, 'EXAT') ? 1000 : 1;
      absolute = req.is(j, 'EXAT') || req.is(j, 'PXAT');
      expIdx = ++j;
    } else {
      c.out.error(E.SYNTAX);
      return -1;
    }
  }
  parsed.expireAt = 0;
  parsed.expIdx = expIdx;
  parsed.unit = unit;
  parsed.absolute = absolute;
  return flags;
}

/** Validates the expire argument found by parseOptions into `parsed.expireAt`; false after an error reply. */
function resolveExpire(c: ShardContext, cmd: string): boolean {
  if (parsed.expIdx < 0) return true;
  const ms = expireArg(c, parsed.expIdx, parsed.unit, parsed.absolute, cmd);
  if (ms < 0) return false;
  parsed.expireAt = ms;
  return true;
}

function isExpiryWord(c: ShardContext, j: number): boolean {
  const r = c.req;
  return r.is(j, 'EX') || r.is(j, 'PX') || r.is(j, 'EXAT') || r.is(j, 'PXAT');
}

function get(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) {
    keyMiss(c, 0);
    c.out.nullBulk();
    return;
  }
  c.ks.hits++;
  c.ks.touch(h);
  replyValue(c, h);
}

function set(c: ShardContext): void {
  const flags = parseOptions(c, 2, true);
  if (flags < 0 || !resolveExpire(c, 'set')) return;
  const { out, ks, req } = c;
  // SET overwrites a key of any type; only SET ... GET needs the old value to be a string.
  const h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  if (flags & GET && h !== 0 && ks.type(h) !== TYPE_STRING) return out.error(E.WRONGTYPE);
  if (flags & GET) {
    if (h === 0) out.nullBulk();
    else replyValue(c, h);
  }
  if ((flags & NX && h !== 0) || (flags & XX && h === 0)) {
    if (!(flags & GET)) out.nullBulk();
    return;
  }
  const expireAt = flags & KEEPTTL ? -1 : parsed.expireAt;
  // The WAL must not depend on when it is replayed: any expiry is logged as SET … PXAT.
  if (parsed.expIdx >= 0) c.propagate(['set', req.copy(0), req.copy(1), 'PXAT', String(expireAt)]);
  const nh = storeArg(c, h, 0, 1, expireAt);
  c.modified(nh, NOTIFY_STRING, 'set');
  if (flags & EXPIRY) c.modified(nh, NOTIFY_GENERIC, 'expire');
  // An absolute time already past: the key is gone at once. Looking it up again expires it
  // the way Redis does on its next access (an 'expired' event after 'set' and 'expire').
  if (expireAt > 0 && expireAt <= ks.now) ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  if (!(flags & GET)) out.ok();
}

function setnx(c: ShardContext): void {
  const h = c.ks.lookup(c.req.db, c.req.u8, c.req.off[0]!, c.req.len[0]!);
  if (h !== 0) return c.out.integer(0);
  c.modified(storeArg(c, 0, 0, 1, 0), NOTIFY_STRING, 'set');
  c.out.integer(1);
}

function setexGeneric(c: ShardContext, unit: number, cmd: string): void {
  const ms = expireArg(c, 1, unit, false, cmd);
  if (ms < 0) return;
  c.propagate(['set', c.req.copy(0), c.req.copy(2), 'PXAT', String(ms)]);
  const h = c.ks.lookup(c.req.db, c.req.u8, c.req.off[0]!, c.req.len[0]!);
  const nh = storeArg(c, h, 0, 2, ms);
  c.modified(nh, NOTIFY_STRING, 'set');
  c.modified(nh, NOTIFY_GENERIC, 'expire');
  c.out.ok();
}

function getset(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) c.out.nullBulk();
  else replyValue(c, h);
  c.modified(storeArg(c, h, 0, 1, 0), NOTIFY_STRING, 'set');
}

function getdel(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) return c.out.nullBulk();
  replyValue(c, h);
  c.modified(h, NOTIFY_GENERIC, 'del');
  c.ks.removeFound(h);
}

function getex(c: ShardContext): void {
  const flags = parseOptions(c, 1, false);
  if (flags < 0) return;
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) return c.out.nullBulk();
  if (!resolveExpire(c, 'getex')) return;
  const ks = c.ks;
  ks.touch(h);
  replyValue(c, h);
  // Logged in absolute form, as Redis propagates GETEX's expiry (PEXPIREAT).
  if (flags & EXPIRY) c.propagate(['pexpireat', c.req.copy(0), String(parsed.expireAt)]);
  if (flags & PERSIST) {
    if (ks.getExpire(h) !== 0) {
      ks.setExpire(c.req.db, h, 0);
      c.modified(h, NOTIFY_GENERIC, 'persist');
    }
  } else if (flags & EXPIRY) {
    if (parsed.expireAt <= ks.now) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      ks.removeFound(h);
    } else {
      ks.setExpire(c.req.db, h, parsed.expireAt);
      c.modified(h, NOTIFY_GENERIC, 'expire');
    }
  }
}

/** The shard's part of MGET: one bulk (or nil) per key it owns, in the order given. */
function mget(c: ShardContext): void {
  const { req, ks, out } = c;
  out.arrayHeader(req.argc);
  for (let i = 0; i < req.argc; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h === 0 || ks.type(h) !== 0) {
      if (h === 0) keyMiss(c, i);
      else ks.misses++;
      out.nullBulk();
    } else {
      ks.hits++;
      ks.touch(h);
      replyValue(c, h);
    }
  }
}

function mset(c: ShardContext): void {
  const { req, ks } = c;
  for (let i = 0; i + 1 < req.argc; i += 2) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    c.modified(storeArg(c, h, i, i + 1, 0), NOTIFY_STRING, 'set');
  }
  c.out.ok();
}

/** MSETNX when every key lives in this shard (the cross-shard case goes through a hold). */
function msetnx(c: ShardContext): void {
  const { req, ks } = c;
  if (req.argc % 2 !== 0) return c.out.error(wrongArity('msetnx'));
  for (let i = 0; i < req.argc; i += 2) {
    if (ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!) !== 0) return c.out.integer(0);
  }
  // writeString reuses the probe of the preceding lookup, so each key is looked up again
  // right before its store (this also makes a repeated key overwrite, as in Redis).
  for (let i = 0; i + 1 < req.argc; i += 2) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    c.modified(storeArg(c, h, i, i + 1, 0), NOTIFY_STRING, 'set');
  }
  c.out.integer(1);
}

function append(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  const { ks, req } = c;
  if (h === 0) {
    c.modified(storeArg(c, 0, 0, 1, 0), NOTIFY_STRING, 'append');
    return c.out.integer(req.len[1]!);
  }
  const oldLen = ks.valueLength(h);
  const total = oldLen + req.len[1]!;
  if (total > c.maxBulkLen) return c.out.error(E.STRING_TOO_LONG);
  const nh = ks.writeString(req.db, h, req.u8, req.off[0]!, req.len[0]!, total, -1, oldLen);
  ks.arena.u8(nh).set(req.u8.subarray(req.off[1]!, req.off[1]! + req.len[1]!), ks.valueOffset(nh) + oldLen);
  ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = ENC_FORCED_RAW;
  c.modified(nh, NOTIFY_STRING, 'append');
  c.out.integer(total);
}

function strlen(c: ShardContext): void {
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) keyMiss(c, 0);
  c.out.integer(h === 0 ? 0 : c.ks.valueLength(h));
}

function getrange(c: ShardContext): void {
  const start = argInt64(c.req, 1);
  const end = argInt64(c.req, 2);
  if (start === null || end === null) return c.out.error(E.NOT_INTEGER);
  const h = lookupString(c, 0);
  if (h < 0) return;
  if (h === 0) keyMiss(c, 0);
  const ks = c.ks;
  const len = h === 0 ? 0 : ks.valueLength(h);
  const r =
    typeof start === 'number' && typeof end === 'number' ? range(start, end, len) : bigRange(start, end, len);
  if (r === null) return c.out.bulk(EMPTY, 0, 0);
  c.out.bulk(ks.arena.u8(h), ks.valueOffset(h) + r, rangeEnd - r + 1);
}
const EMPTY = new Uint8Array(0);

/** Redis getrangeCommand's index arithmetic: the start offset (end in `rangeEnd`), or null for "". */
let rangeEnd = 0;
function range(start: number, end: number, len: number): number | null {
  if (start < 0 && end < 0 && start > end) return null;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return null;
  rangeEnd = end;
  return start;
}

/** The same with indexes beyond ±2^53, where only their order and sign matter. */
function bigRange(s: number | bigint, e: number | bigint, len: number): number | null {
  const start = BigInt(s);
  const end = BigInt(e);
  if (start < 0n && end < 0n && start > end) return null;
  const clamp = (v: bigint): number => (v > 1n << 53n ? 2 ** 53 : v < -(1n << 53n) ? -(2 ** 53) : Number(v));
  return range(clamp(start), clamp(end), len);
}

function setrange(c: ShardContext): void {
  const { req, ks } = c;
  const off64 = argInt64(req, 1);
  if (off64 === null) return c.out.error(E.NOT_INTEGER);
  const offset = Number(off64);
  if (offset < 0) return c.out.error(E.OFFSET_RANGE);
  const h = lookupString(c, 0);
  if (h < 0) return;
  const vlen = req.len[2]!;
  const cur = h === 0 ? 0 : ks.valueLength(h);
  if (vlen === 0) return c.out.integer(cur);
  if (offset + vlen > c.maxBulkLen) return c.out.error(E.STRING_TOO_LONG);
  const total = Math.max(cur, offset + vlen);
  const nh = ks.writeString(req.db, h, req.u8, req.off[0]!, req.len[0]!, total, h === 0 ? 0 : -1, cur);
  const dst = ks.arena.u8(nh);
  const vo = ks.valueOffset(nh);
  if (offset > cur) dst.fill(0, vo + cur, vo + offset);
  dst.set(req.u8.subarray(req.off[2]!, req.off[2]! + vlen), vo + offset);
  dst[ks.arena.base(nh) + ENCODING] = ENC_FORCED_RAW;
  c.modified(nh, NOTIFY_STRING, 'setrange');
  c.out.integer(total);
}

/** LCS helper: the shard returns each requested key's string value (nil if absent). */
function lcsFetch(c: ShardContext): void {
  const { req, ks, out } = c;
  for (let i = 0; i < req.argc; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h !== 0 && ks.type(h) !== 0) {
      out.error(E.WRONGTYPE);
      return;
    }
  }
  out.arrayHeader(req.argc);
  for (let i = 0; i < req.argc; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h === 0) out.nullBulk();
    else replyValue(c, h);
  }
}

export const stringCommands: CommandDef[] = [
  { name: 'get', route: 'key', shard: get },
  { name: 'set', route: 'key', shard: set },
  { name: 'setnx', route: 'key', shard: setnx },
  { name: 'setex', route: 'key', shard: (c) => setexGeneric(c, 1000, 'setex') },
  { name: 'psetex', route: 'key', shard: (c) => setexGeneric(c, 1, 'psetex') },
  { name: 'getset', route: 'key', shard: getset },
  { name: 'getdel', route: 'key', shard: getdel },
  { name: 'getex', route: 'key', shard: getex },
  { name: 'mget', route: 'keys', shard: mget, combine: 'mget' },
  { name: 'mset', route: 'pairs', shard: mset, combine: 'ok' },
  { name: 'msetnx', route: 'multi', shard: msetnx },
  { name: 'append', route: 'key', shard: append },
  { name: 'strlen', route: 'key', shard: strlen },
  { name: 'getrange', route: 'key', shard: getrange },
  { name: 'substr', route: 'key', shard: getrange },
  { name: 'setrange', route: 'key', shard: setrange },
  { name: 'lcs', route: 'gather', shard: lcsFetch },
];
