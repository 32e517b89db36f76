/**
 * Hash commands (Redis 7.0 t_hash.c): same checks in the same order, same replies in RESP2 and
 * RESP3. The container and its listpack/hashtable encodings are in store/types/hash.ts.
 */
import { parseInt64, scanInt64 } from '../protocol/numbers.ts';
import { E, E_HS, wrongArity } from '../protocol/redis-errors.ts';
import { TYPE_HASH } from '../store/record.ts';
import { HASH_MAX_LISTPACK_VALUE, HashObject, newRef, type Ref } from '../store/types/hash.ts';
import { latin1 } from '../store/types/latin1.ts';
import { addLongDouble, formatHuman, parseLongDouble } from '../util/decimal.ts';
import { randomCount, sampleIndexes, scanCursor, scanHeader, scanOptions, tooLarge } from './coll-util.ts';
import { NOTIFY_GENERIC, NOTIFY_HASH } from './notify-flags.ts';
import { globMatch } from '../util/glob.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

const ref = newRef();
const ref2 = newRef();

/**
 * The key (argument 0): its handle, 0 when absent, -1 after replying WRONGTYPE. Like Redis's
 * lookupKeyRead/lookupKeyWrite it records the access, and reads count keyspace hits/misses.
 */
function lookupHash(c: ShardContext, read = true): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  if (h !== 0) ks.touch(h);
  if (read) {
    if (h !== 0) ks.hits++;
    else keyMiss(c, 0);
  }
  if (h !== 0 && ks.type(h) !== TYPE_HASH) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  return h;
}

/** Redis hashTypeLookupWriteOrCreate: the hash at argument 0, created empty when absent. */
function lookupOrCreate(c: ShardContext): number {
  const h = lookupHash(c, false);
  if (h !== 0) return h;
  const { ks, req } = c;
  return ks.writeObject(req.db, 0, req.u8, req.off[0]!, req.len[0]!, new HashObject(), 0);
}

/** Redis hashTypeTryConversion: any argument in [from, to] too long for a listpack converts. */
function tryConversion(c: ShardContext, hash: HashObject, from: number, to: number): void {
  if (!hash.isListpack()) return;
  for (let i = from; i <= to; i++) {
    if (c.req.len[i]! > HASH_MAX_LISTPACK_VALUE) return hash.convert();
  }
}

function bulkRef(c: ShardContext, r: Ref): void {
  c.out.bulk(r.buf, r.off, r.len);
}

function hset(c: ShardContext, hmset: boolean): void {
  const { ks, req, out } = c;
  if ((req.argc - 1) % 2 !== 0) return out.error(wrongArity(hmset ? 'hmset' : 'hset'));
  const h = lookupOrCreate(c);
  if (h < 0) return;
  const hash = ks.getObject<HashObject>(h);
  tryConversion(c, hash, 1, req.argc - 1);
  let created = 0;
  const { u8, off, len } = req;
  for (let i = 1; i < req.argc; i += 2) {
    if (hash.set(u8, off[i]!, len[i]!, u8, off[i + 1]!, len[i + 1]!)) created++;
  }
  if (hmset) out.ok();
  else out.integer(created);
  c.modified(h, NOTIFY_HASH, 'hset');
}

function hsetnx(c: ShardContext): void {
  const { ks, req, out } = c;
  const h = lookupOrCreate(c);
  if (h < 0) return;
  const hash = ks.getObject<HashObject>(h);
  const { u8, off, len } = req;
  if (hash.has(u8, off[1]!, len[1]!)) return out.integer(0);
  tryConversion(c, hash, 1, 2);
  hash.set(u8, off[1]!, len[1]!, u8, off[2]!, len[2]!);
  out.integer(1);
  c.modified(h, NOTIFY_HASH, 'hset');
}

function hget(c: ShardContext): void {
  const h = lookupHash(c);
  if (h < 0) return;
  const { req } = c;
  if (h === 0 || !c.ks.getObject<HashObject>(h).get(req.u8, req.off[1]!, req.len[1]!, ref)) {
    return c.out.nullBulk();
  }
  bulkRef(c, ref);
}

function hmget(c: ShardContext): void {
  const h = lookupHash(c);
  if (h < 0) return;
  const { req, out } = c;
  const hash = h === 0 ? null : c.ks.getObject<HashObject>(h);
  out.arrayHeader(req.argc - 1);
  for (let i = 1; i < req.argc; i++) {
    if (hash !== null && hash.get(req.u8, req.off[i]!, req.len[i]!, ref)) bulkRef(c, ref);
    else out.nullBulk();
  }
}

function hdel(c: ShardContext): void {
  const h = lookupHash(c, false);
  if (h < 0) return;
  if (h === 0) return c.out.integer(0);
  const { ks, req } = c;
  const hash = ks.getObject<HashObject>(h);
  let deleted = 0;
  let removed = false;
  for (let i = 1; i < req.argc; i++) {
    if (hash.delete(req.u8, req.off[i]!, req.len[i]!)) {
      deleted++;
      if (hash.size === 0) {
        removed = true;
        break;
      }
    }
  }
  if (deleted > 0) {
    c.modified(h, NOTIFY_HASH, 'hdel');
    if (removed) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      ks.removeFound(h);
    }
  }
  c.out.integer(deleted);
}

function hlen(c: ShardContext): void {
  const h = lookupHash(c);
  if (h < 0) return;
  c.out.integer(h === 0 ? 0 : c.ks.getObject<HashObject>(h).size);
}

function hstrlen(c: ShardContext): void {
  const h = lookupHash(c);
  if (h < 0) return;
  const { req } = c;
  const found = h !== 0 && c.ks.getObject<HashObject>(h).get(req.u8, req.off[1]!, req.len[1]!, ref);
  c.out.integer(found ? ref.len : 0);
}

function hexists(c: ShardContext): void {
  const h = lookupHash(c);
  if (h < 0) return;
  const { req } = c;
  c.out.integer(h !== 0 && c.ks.getObject<HashObject>(h).has(req.u8, req.off[1]!, req.len[1]!) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

/** Redis genericHgetallCommand: a map for fields and values, else a flat array. */
function hgetall(c: ShardContext, what: number): void {
  const h = lookupHash(c);
  if (h < 0) return;
  const { out } = c;
  const n = h === 0 ? 0 : c.ks.getObject<HashObject>(h).size;
  if (what === (KEYS | VALUES)) out.mapHeader(n);
  else out.arrayHeader(n);
  if (h === 0) return;
  const hash = c.ks.getObject<HashObject>(h);
  for (let i = 0; i < n; i++) {
    if (what & KEYS) {
      hash.field(i, ref);
      bulkRef(c, ref);
    }
    if (what & VALUES) {
      hash.value(i, ref);
      bulkRef(c, ref);
    }
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const digits = Buffer.alloc(24);

function hincrby(c: ShardContext): void {
  const { ks, req, out } = c;
  const incr = argInt64(req, 2);
  if (incr === null) return out.error(E.NOT_INTEGER);
  const h = lookupOrCreate(c);
  if (h < 0) return;
  const hash = ks.getObject<HashObject>(h);
  let cur: number | bigint = 0;
  if (hash.get(req.u8, req.off[1]!, req.len[1]!, ref)) {
    const v = scanInt64(ref.buf, ref.off, ref.len);
    if (v !== v) return out.error(E_HS.HASH_NOT_INTEGER);
    cur = Number.isSafeInteger(v) ? v : parseInt64(ref.buf, ref.off, ref.len)!;
  }
  let sum: number | bigint;
  if (typeof cur === 'number' && typeof incr === 'number' && Number.isSafeInteger(cur + incr))
    sum = cur + incr;
  else {
    sum = BigInt(cur) + BigInt(incr);
    if (sum > INT64_MAX || sum < INT64_MIN) return out.error(E.OVERFLOW);
  }
  const n = digits.write(sum.toString(), 0, 'latin1');
  hash.set(req.u8, req.off[1]!, req.len[1]!, digits, 0, n);
  if (typeof sum === 'bigint') out.bigint(sum);
  else out.integer(sum);
  c.modified(h, NOTIFY_HASH, 'hincrby');
}

function hincrbyfloat(c: ShardContext): void {
  const { ks, req, out } = c;
  const incr = parseLongDouble(latin1(req.u8, req.off[2]!, req.len[2]!));
  if (incr === null) return out.error(E.NOT_FLOAT);
  if (incr.exp === Infinity) return out.error(E_HS.INCR_NAN_OR_INF);
  const h = lookupOrCreate(c);
  if (h < 0) return;
  const hash = ks.getObject<HashObject>(h);
  let cur = ZERO;
  if (hash.get(req.u8, req.off[1]!, req.len[1]!, ref)) {
    const v = parseLongDouble(latin1(ref.buf, ref.off, ref.len));
    if (v === null) return out.error(E_HS.HASH_NOT_FLOAT);
    cur = v;
  }
  const sum = addLongDouble(cur, incr);
  if (sum === null) return out.error(E.NAN_OR_INF);
  const text = Buffer.from(formatHuman(sum), 'latin1');
  hash.set(req.u8, req.off[1]!, req.len[1]!, text, 0, text.length);
  out.bulk(text, 0, text.length);
  c.modified(h, NOTIFY_HASH, 'hincrbyfloat');
  // Replicas and the WAL get the result, never the float arithmetic (Redis does the same).
  c.propagate(['HSET', req.copy(0), req.copy(1), text]);
}

const ZERO = { neg: false, mant: 0n, exp: 0 };

/** One random field (and value) as HRANDFIELD replies it: RESP3 pairs are nested arrays. */
function replyPick(c: ShardContext, hash: HashObject, i: number, withValues: boolean): void {
  if (withValues && c.out.resp3) c.out.arrayHeader(2);
  hash.field(i, ref);
  bulkRef(c, ref);
  if (withValues) {
    hash.value(i, ref2);
    bulkRef(c, ref2);
  }
}

const HALF_LONG = 4611686018427387903n;

/** HRANDFIELD key [count [WITHVALUES]] (Redis hrandfieldCommand / hrandfieldWithCountCommand). */
function hrandfield(c: ShardContext): void {
  const { ks, req, out } = c;
  if (req.argc >= 2) {
    const raw = randomCount(c, 1);
    if (raw === null) return;
    if (req.argc > 3 || (req.argc === 3 && !req.is(2, 'WITHVALUES'))) return out.error(E.SYNTAX);
    const withValues = req.argc === 3;
    // Redis refuses counts beyond ±LONG_MAX/2 with values (the reply would double them).
    if (withValues && (BigInt(raw) < -HALF_LONG || BigInt(raw) > HALF_LONG))
      return out.error(E_HS.OUT_OF_RANGE);
    const l = Number(raw);
    const h = lookupHash(c);
    if (h < 0) return;
    if (h === 0 || l === 0) return out.arrayHeader(0);
    return randomWithCount(c, ks.getObject<HashObject>(h), l, withValues);
  }
  const h = lookupHash(c);
  if (h < 0) return;
  if (h === 0) return out.nullBulk();
  const hash = ks.getObject<HashObject>(h);
  hash.field(hash.randomIndex(), ref);
  bulkRef(c, ref);
}

function randomWithCount(c: ShardContext, hash: HashObject, l: number, withValues: boolean): void {
  const { out } = c;
  const size = hash.size;
  const pairs = withValues && !out.resp3 ? 2 : 1;
  if (l < 0 || l === 1) {
    // CASE 1: picks with repetition, in random order.
    const count = Math.abs(l);
    if (tooLarge(c, count, withValues ? hash.avgPairBytes() : hash.avgPairBytes() / 2)) return;
    out.arrayHeader(count * pairs);
    for (let k = 0; k < count; k++) replyPick(c, hash, hash.randomIndex(), withValues);
    return;
  }
  if (l >= size) {
    // CASE 2: the whole hash, in its iteration order.
    out.arrayHeader(size * pairs);
    for (let i = 0; i < size; i++) replyPick(c, hash, i, withValues);
    return;
  }
  // CASES 3 and 4: distinct fields.
  const picks = sampleIndexes(size, l);
  out.arrayHeader(l * pairs);
  for (let k = 0; k < l; k++) replyPick(c, hash, picks[k]!, withValues);
}

/**
 * HSCAN key cursor [MATCH pattern] [COUNT count]. A listpack is returned whole with cursor 0,
 * as Redis does; a hashtable is walked from its last slot down (see HashObject), which every
 * field present for the whole scan is visited by even when others are deleted meanwhile.
 */
function hscan(c: ShardContext): void {
  const { ks, req, out } = c;
  const cursor = scanCursor(req.u8, req.off[1]!, req.len[1]!);
  if (cursor !== cursor) return out.error(E.INVALID_CURSOR);
  const h = lookupHash(c);
  if (h < 0) return;
  if (h === 0) return scanHeader(out, 0, 0);
  const a = scanOptions(c, 2, cursor);
  if (a === null) return;
  const hash = ks.getObject<HashObject>(h);
  let from = 0;
  let to = hash.size;
  let next = 0;
  if (!hash.isListpack()) {
    to = cursor === 0 || cursor > hash.size ? hash.size : cursor;
    from = Math.max(0, to - a.count);
    next = from;
  }
  const picked: number[] = [];
  for (let i = to - 1; i >= from; i--) {
    if (a.po >= 0) {
      hash.field(i, ref);
      if (!globMatch(req.u8, a.po, a.pl, ref.buf, ref.off, ref.len, false)) continue;
    }
    picked.push(i);
  }
  // A listpack replies in its own order (Redis walks it head to tail).
  if (hash.isListpack()) picked.reverse();
  scanHeader(out, next, picked.length * 2);
  for (const i of picked) {
    hash.field(i, ref);
    bulkRef(c, ref);
    hash.value(i, ref);
    bulkRef(c, ref);
  }
}

export const hashCommands: CommandDef[] = [
  { name: 'hset', route: 'key', shard: (c) => hset(c, false) },
  { name: 'hmset', route: 'key', shard: (c) => hset(c, true) },
  { name: 'hsetnx', route: 'key', shard: hsetnx },
  { name: 'hget', route: 'key', shard: hget },
  { name: 'hmget', route: 'key', shard: hmget },
  { name: 'hdel', route: 'key', shard: hdel },
  { name: 'hlen', route: 'key', shard: hlen },
  { name: 'hstrlen', route: 'key', shard: hstrlen },
  { name: 'hexists', route: 'key', shard: hexists },
  { name: 'hkeys', route: 'key', shard: (c) => hgetall(c, KEYS) },
  { name: 'hvals', route: 'key', shard: (c) => hgetall(c, VALUES) },
  { name: 'hgetall', route: 'key', shard: (c) => hgetall(c, KEYS | VALUES) },
  { name: 'hincrby', route: 'key', shard: hincrby },
  { name: 'hincrbyfloat', route: 'key', shard: hincrbyfloat },
  { name: 'hrandfield', route: 'key', shard: hrandfield },
  { name: 'hscan', route: 'key', shard: hscan },
];
