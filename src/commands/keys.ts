import { touchDb } from './watch.ts';
import { dbsSwapped } from './blocked-keys.ts';
import { parseInt64 } from '../protocol/numbers.ts';
import { E, invalidExpire, unsupportedOption } from '../protocol/redis-errors.ts';
import {
  ENC_FORCED_RAW,
  ENC_NO_INT,
  ENCODING,
  KEY_OFF,
  LRU,
  TYPE_NAMES,
  TYPE_STRING,
} from '../store/record.ts';
import { globMatch } from '../util/glob.ts';
import { memoryConfig } from '../store/memory-config.ts';
import { parseCopyOptions } from './copy-options.ts';
import { NOTIFY_GENERIC } from './notify-flags.ts';
import { argInt } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

function lookup(c: ShardContext, i: number): number {
  return c.ks.lookup(c.req.db, c.req.u8, c.req.off[i]!, c.req.len[i]!);
}

/** DEL / UNLINK: the shard's part, counting keys it removed. */
function del(c: ShardContext): void {
  let n = 0;
  for (let i = 0; i < c.req.argc; i++) {
    const h = lookup(c, i);
    if (h !== 0) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      c.ks.removeFound(h);
      n++;
    }
  }
  c.out.integer(n);
}

function exists(c: ShardContext): void {
  let n = 0;
  for (let i = 0; i < c.req.argc; i++) {
    if (lookup(c, i) !== 0) n++;
    else keyMiss(c, i);
  }
  c.out.integer(n);
}

function touch(c: ShardContext): void {
  let n = 0;
  for (let i = 0; i < c.req.argc; i++) {
    const h = lookup(c, i);
    if (h !== 0) {
      c.ks.touch(h);
      n++;
    }
  }
  c.out.integer(n);
}

function type(c: ShardContext): void {
  const h = lookup(c, 0);
  if (h === 0) keyMiss(c, 0);
  c.out.simple(h === 0 ? 'none' : TYPE_NAMES[c.ks.type(h)]!);
}

const EXP_NX = 1;
const EXP_XX = 2;
const EXP_GT = 4;
const EXP_LT = 8;

/** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (Redis expireGenericCommand, checks in the same order). */
function expireGeneric(c: ShardContext, unitMs: number, absolute: boolean, cmd: string): void {
  const { req, ks, out } = c;
  let flags = 0;
  for (let j = 2; j < req.argc; j++) {
    if (req.is(j, 'NX')) flags |= EXP_NX;
    else if (req.is(j, 'XX')) flags |= EXP_XX;
    else if (req.is(j, 'GT')) flags |= EXP_GT;
    else if (req.is(j, 'LT')) flags |= EXP_LT;
    else return out.error(unsupportedOption(req.str(j)));
  }
  if (flags & EXP_NX && flags & (EXP_XX | EXP_GT | EXP_LT)) return out.error(E.EXPIRE_NX_XX);
  if (flags & EXP_GT && flags & EXP_LT) return out.error(E.EXPIRE_GT_LT);
  let when = argInt(req, 1);
  if (Number.isNaN(when)) {
    const big = parseInt64(req.u8, req.off[1]!, req.len[1]!);
    if (big === null) return out.error(E.NOT_INTEGER);
    // Beyond ±2^53 only the overflow checks matter; Redis rejects these as well.
    if (unitMs > 1 || big > 0n) return out.error(invalidExpire(cmd));
    when = Number(big);
  }
  if (unitMs > 1 && Math.abs(when) > 9223372036854775 / 1) return out.error(invalidExpire(cmd));
  when *= unitMs;
  if (!absolute) when += ks.now;
  if (when > 9.2e18) return out.error(invalidExpire(cmd));
  const h = lookup(c, 0);
  if (h === 0) return out.integer(0);
  if (flags) {
    const cur = ks.getExpire(h);
    if (flags & EXP_NX && cur !== 0) return out.integer(0);
    if (flags & EXP_XX && cur === 0) return out.integer(0);
    if (flags & EXP_GT && (cur === 0 || when <= cur)) return out.integer(0);
    if (flags & EXP_LT && cur !== 0 && when >= cur) return out.integer(0);
  }
  // Logged as PEXPIREAT (or DEL once due), as Redis propagates EXPIRE/PEXPIRE/EXPIREAT.
  c.propagate(when <= ks.now ? ['del', req.copy(0)] : ['pexpireat', req.copy(0), String(when)]);
  if (when <= ks.now) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    ks.removeFound(h);
  } else {
    ks.setExpire(req.db, h, when);
    c.modified(h, NOTIFY_GENERIC, 'expire');
  }
  out.integer(1);
}

function ttlGeneric(c: ShardContext, ms: boolean, absolute: boolean): void {
  const h = lookup(c, 0);
  if (h === 0) {
    keyMiss(c, 0);
    return c.out.integer(-2);
  }
  const exp = c.ks.getExpire(h);
  if (exp === 0) return c.out.integer(-1);
  if (absolute) return c.out.integer(ms ? exp : Math.floor(exp / 1000));
  const left = Math.max(0, exp - c.ks.now);
  c.out.integer(ms ? left : Math.floor((left + 500) / 1000));
}

function persist(c: ShardContext): void {
  const h = lookup(c, 0);
  if (h === 0 || c.ks.getExpire(h) === 0) return c.out.integer(0);
  c.ks.setExpire(c.req.db, h, 0);
  c.modified(h, NOTIFY_GENERIC, 'persist');
  c.out.integer(1);
}

/**
 * Copies the record of key argument `si` (db `srcDb`) to key argument `di` in `dstDb`.
 * Only used when both keys live in this shard; the cross-shard path uses dump/restore ops.
 * Returns the new record.
 */
function copyRecord(c: ShardContext, srcDb: number, sh: number, dstDb: number, di: number): number {
  const { ks, req } = c;
  if (ks.type(sh) !== TYPE_STRING) {
    const obj = ks.getObject(sh).clone();
    const exp = ks.getExpire(sh);
    const dh = ks.lookup(dstDb, req.u8, req.off[di]!, req.len[di]!);
    return ks.writeObject(dstDb, dh, req.u8, req.off[di]!, req.len[di]!, obj, exp);
  }
  const vlen = ks.valueLength(sh);
  const src = ks.arena.u8(sh);
  const vo = ks.valueOffset(sh);
  const value = Buffer.from(src.subarray(vo, vo + vlen));
  const exp = ks.getExpire(sh);
  const enc = src[ks.arena.base(sh) + ENCODING]!;
  void srcDb;
  const dh = ks.lookup(dstDb, req.u8, req.off[di]!, req.len[di]!);
  const nh = ks.writeString(dstDb, dh, req.u8, req.off[di]!, req.len[di]!, vlen, exp);
  ks.arena.u8(nh).set(value, ks.valueOffset(nh));
  ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = enc;
  return nh;
}

function renameGeneric(c: ShardContext, nx: boolean): void {
  const { ks, req, out } = c;
  const sh = lookup(c, 0);
  if (sh === 0) return out.error(E.NO_SUCH_KEY);
  if (sameArg(c, 0, 1)) return nx ? out.integer(0) : out.ok();
  const dh = lookup(c, 1);
  if (dh !== 0 && nx) return out.integer(0);
  // Redis's order: the destination is deleted and added ('new'), then rename_from on the
  // source, then rename_to on the destination.
  if (dh !== 0) ks.removeFound(lookup(c, 1));
  const src = lookup(c, 0);
  if (ks.type(src) !== TYPE_STRING) {
    // Collections move in O(1): the object changes records, nothing is copied.
    ks.writeObject(
      req.db,
      lookup(c, 1),
      req.u8,
      req.off[1]!,
      req.len[1]!,
      ks.getObject(src),
      ks.getExpire(src),
    );
  } else copyRecord(c, req.db, src, req.db, 1);
  const from = lookup(c, 0);
  c.modified(from, NOTIFY_GENERIC, 'rename_from');
  ks.removeFound(from);
  const nh = lookup(c, 1);
  c.modified(nh, NOTIFY_GENERIC, 'rename_to');
  if (nx) out.integer(1);
  else out.ok();
}

function copy(c: ShardContext): void {
  const { req, out, ks } = c;
  const opts = parseCopyOptions(req.argc, (i) => req.str(i), req.db, ks.tables.length);
  if (typeof opts === 'string') return out.error(opts);
  if (opts.dstDb === req.db && sameArg(c, 0, 1)) return out.error(E.SAME_OBJECT);
  const sh = lookup(c, 0);
  if (sh === 0) return out.integer(0);
  const dh = ks.lookup(opts.dstDb, req.u8, req.off[1]!, req.len[1]!);
  if (dh !== 0 && !opts.replace) return out.integer(0);
  c.modified(copyRecord(c, req.db, lookup(c, 0), opts.dstDb, 1), NOTIFY_GENERIC, 'copy_to', opts.dstDb);
  out.integer(1);
}

function move(c: ShardContext): void {
  const { req, ks, out } = c;
  const db = argInt(req, 1);
  if (Number.isNaN(db) || db < -2147483648 || db > 2147483647) return out.error(E.NOT_INTEGER);
  if (db < 0 || db >= ks.tables.length) return out.error(E.DB_RANGE);
  if (db === req.db) return out.error(E.SAME_OBJECT);
  const h = lookup(c, 0);
  if (h === 0) return out.integer(0);
  if (ks.lookup(db, req.u8, req.off[0]!, req.len[0]!) !== 0) return out.integer(0);
  const again = lookup(c, 0);
  c.modified(again, NOTIFY_GENERIC, 'move_from');
  ks.moveFound(again, db);
  c.modified(again, NOTIFY_GENERIC, 'move_to', db);
  out.integer(1);
}

function sameArg(c: ShardContext, a: number, b: number): boolean {
  const { req } = c;
  const n = req.len[a]!;
  if (n !== req.len[b]) return false;
  for (let i = 0; i < n; i++) if (req.u8[req.off[a]! + i] !== req.u8[req.off[b]! + i]) return false;
  return true;
}

/** KEYS: this shard's matching keys (main concatenates the shards' arrays). */
function keys(c: ShardContext): void {
  const { ks, req, out } = c;
  const pat = req.u8;
  const po = req.off[0]!;
  const pl = req.len[0]!;
  const matchAll = pl === 1 && pat[po] === 42;
  const found: number[] = [];
  const arena = ks.arena;
  ks.table(req.db).forEach((h) => {
    const exp = ks.getExpire(h);
    if (exp !== 0 && exp <= ks.now) return;
    if (matchAll || globMatch(pat, po, pl, arena.u8(h), arena.base(h) + KEY_OFF, ks.keyLength(h), false))
      found.push(h);
  });
  out.arrayHeader(found.length);
  for (const h of found) out.bulk(arena.u8(h), arena.base(h) + KEY_OFF, ks.keyLength(h));
}

/**
 * SCAN step in this shard. Args: cursor, then already-validated MATCH/COUNT/TYPE options.
 * Reply: [next cursor in this shard, [keys]].
 */
function scan(c: ShardContext): void {
  const { ks, req, out } = c;
  const cursor = argInt(req, 0);
  let count = 10;
  let po = -1;
  let pl = 0;
  let typeName: string | null = null;
  for (let j = 1; j + 1 < req.argc; j += 2) {
    if (req.is(j, 'COUNT')) count = argInt(req, j + 1);
    else if (req.is(j, 'MATCH')) {
      po = req.off[j + 1]!;
      pl = req.len[j + 1]!;
    } else if (req.is(j, 'TYPE')) typeName = req.str(j + 1).toLowerCase();
  }
  const arena = ks.arena;
  const found: number[] = [];
  const next = ks.table(req.db).scan(cursor, count, (h) => {
    const exp = ks.getExpire(h);
    if (exp !== 0 && exp <= ks.now) return;
    if (typeName !== null && TYPE_NAMES[ks.type(h)] !== typeName) return;
    if (po >= 0 && !globMatch(req.u8, po, pl, arena.u8(h), arena.base(h) + KEY_OFF, ks.keyLength(h), false))
      return;
    found.push(h);
  });
  out.arrayHeader(2);
  out.bulkString(String(next));
  out.arrayHeader(found.length);
  for (const h of found) out.bulk(arena.u8(h), arena.base(h) + KEY_OFF, ks.keyLength(h));
}

function randomkey(c: ShardContext): void {
  const { ks, req, out } = c;
  for (let tries = 0; tries < 100; tries++) {
    const h = ks.table(req.db).random();
    if (h === 0) break;
    const exp = ks.getExpire(h);
    if (exp !== 0 && exp <= ks.now) continue;
    return out.bulk(ks.arena.u8(h), ks.arena.base(h) + KEY_OFF, ks.keyLength(h));
  }
  out.nullBulk();
}

function dbsize(c: ShardContext): void {
  c.out.integer(c.ks.keyCount(c.req.db));
}

/** FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; freeing is synchronous for now. */
function flushMode(c: ShardContext): boolean {
  const { req } = c;
  if (req.argc === 0 || (req.argc === 1 && (req.is(0, 'ASYNC') || req.is(0, 'SYNC')))) return true;
  c.out.error(E.SYNTAX);
  return false;
}

/** ASYNC, or neither SYNC nor ASYNC with lazyfree-lazy-user-flush yes (after flushMode). */
function lazyFlush(c: ShardContext): boolean {
  return c.req.argc === 1 ? c.req.is(0, 'ASYNC') : memoryConfig.lazyUserFlush;
}

function flushdb(c: ShardContext): void {
  if (!flushMode(c)) return;
  touchDb(c.ks, c.req.db);
  c.ks.flushDb(c.req.db, lazyFlush(c));
  c.out.ok();
}

function flushall(c: ShardContext): void {
  if (!flushMode(c)) return;
  touchDb(c.ks, -1);
  c.ks.flushAll();
  c.out.ok();
}

/** SWAPDB: main has validated both indexes; args are the two db numbers. */
function swapdb(c: ShardContext): void {
  c.ks.swapDb(argInt(c.req, 0), argInt(c.req, 1));
  touchDb(c.ks, argInt(c.req, 0), argInt(c.req, 1));
  touchDb(c.ks, argInt(c.req, 1), argInt(c.req, 0));
  dbsSwapped(c.ks, argInt(c.req, 0), argInt(c.req, 1));
  c.out.ok();
}

function objectEncoding(c: ShardContext): void {
  const { ks, out } = c;
  const h = lookup(c, 0);
  if (h === 0) return out.nullBulk();
  if (ks.type(h) !== TYPE_STRING) return out.bulkString(ks.getObject(h).encoding());
  const r = ks.arena.u8(h);
  const enc = r[ks.arena.base(h) + ENCODING];
  if (enc === ENC_FORCED_RAW) return out.bulkString('raw');
  const vo = ks.valueOffset(h);
  const vl = ks.valueLength(h);
  if (enc !== ENC_NO_INT && vl <= 20 && parseInt64(r, vo, vl) !== null) return out.bulkString('int');
  out.bulkString(vl <= 44 ? 'embstr' : 'raw');
}

function objectIdletime(c: ShardContext): void {
  const { ks } = c;
  const h = lookup(c, 0);
  if (h === 0) return c.out.nullBulk();
  if (ks.lfu) return c.out.error(E.LFU_SELECTED);
  const lru = ks.arena.i32(h)[(ks.arena.base(h) + LRU) >> 2]!;
  c.out.integer(Math.max(0, ((ks.now / 1000) | 0) - lru));
}

function objectFreq(c: ShardContext): void {
  const h = lookup(c, 0);
  if (h === 0) return c.out.nullBulk();
  // The counter is tracked only under an LFU policy (the header's LRU field holds its minute).
  if (!c.ks.lfu) return c.out.error(E.LFU_NOT_SELECTED);
  c.out.integer(c.ks.frequency(h));
}

function objectRefcount(c: ShardContext): void {
  const h = lookup(c, 0);
  if (h === 0) return c.out.nullBulk();
  c.out.integer(1);
}

export const keyCommands: CommandDef[] = [
  { name: 'del', route: 'keys', shard: del, combine: 'sum' },
  { name: 'unlink', route: 'keys', shard: del, combine: 'sum' },
  { name: 'exists', route: 'keys', shard: exists, combine: 'sum' },
  { name: 'touch', route: 'keys', shard: touch, combine: 'sum' },
  { name: 'type', route: 'key', shard: type },
  { name: 'expire', route: 'key', shard: (c) => expireGeneric(c, 1000, false, 'expire') },
  { name: 'pexpire', route: 'key', shard: (c) => expireGeneric(c, 1, false, 'pexpire') },
  { name: 'expireat', route: 'key', shard: (c) => expireGeneric(c, 1000, true, 'expireat') },
  { name: 'pexpireat', route: 'key', shard: (c) => expireGeneric(c, 1, true, 'pexpireat') },
  { name: 'ttl', route: 'key', shard: (c) => ttlGeneric(c, false, false) },
  { name: 'pttl', route: 'key', shard: (c) => ttlGeneric(c, true, false) },
  { name: 'expiretime', route: 'key', shard: (c) => ttlGeneric(c, false, true) },
  { name: 'pexpiretime', route: 'key', shard: (c) => ttlGeneric(c, true, true) },
  { name: 'persist', route: 'key', shard: persist },
  { name: 'rename', route: 'multi', shard: (c) => renameGeneric(c, false) },
  { name: 'renamenx', route: 'multi', shard: (c) => renameGeneric(c, true) },
  { name: 'copy', route: 'multi', shard: copy },
  { name: 'move', route: 'key', shard: move },
  { name: 'keys', route: 'all', shard: keys, combine: 'concat' },
  { name: 'scan', route: 'local', shard: scan },
  { name: 'randomkey', route: 'local', shard: randomkey },
  { name: 'dbsize', route: 'all', shard: dbsize, combine: 'sum' },
  { name: 'flushdb', route: 'all', shard: flushdb, combine: 'ok' },
  { name: 'flushall', route: 'all', shard: flushall, combine: 'ok' },
  { name: 'swapdb', route: 'local', shard: swapdb },
  { name: 'object|encoding', route: 'key', shard: objectEncoding },
  { name: 'object|idletime', route: 'key', shard: objectIdletime },
  { name: 'object|freq', route: 'key', shard: objectFreq },
  { name: 'object|refcount', route: 'key', shard: objectRefcount },
];
