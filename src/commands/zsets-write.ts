/**
 * Sorted-set writes: ZADD / ZINCRBY (zaddGenericCommand), ZREM and ZREMRANGEBY{RANK,SCORE,LEX},
 * with Redis 7.0's option rules, error precedence and keyspace events.
 */
import { E } from '../protocol/redis-errors.ts';
import {
  ZADD_ADDED,
  ZADD_GT,
  ZADD_INCR,
  ZADD_LT,
  ZADD_NAN,
  ZADD_NOP,
  ZADD_NX,
  ZADD_UPDATED,
  ZADD_XX,
  ZSET_MAX_LISTPACK_VALUE,
  ZSet,
} from '../store/types/zset.ts';
import { NOTIFY_ZSET } from './notify-flags.ts';
import type { ShardContext } from './types.ts';
import {
  argDouble,
  argLong,
  newLexRange,
  newScoreRange,
  parseLexRange,
  parseScoreRange,
} from './zset-args.ts';
import { afterRemove, lookupZ } from './zsets-common.ts';

export const ERR_NAN = 'ERR resulting score is not a number (NaN)';
const ERR_XX_NX = 'ERR XX and NX options at the same time are not compatible';
const ERR_GT_LT_NX = 'ERR GT, LT, and/or NX options at the same time are not compatible';
const ERR_INCR_PAIR = 'ERR INCR option supports a single increment-element pair';
export const ERR_NOT_FLOAT_RANGE = 'ERR min or max is not a float';
export const ERR_LEX_RANGE = 'ERR min or max not valid string range item';

let scores = new Float64Array(16);

function zaddGeneric(c: ShardContext, flags: number): void {
  const { req, out, ks } = c;
  let ch = false;
  let idx = 1;
  // Options come before the first score; ZINCRBY goes through the same loop in Redis.
  for (; idx < req.argc; idx++) {
    if (req.is(idx, 'NX')) flags |= ZADD_NX;
    else if (req.is(idx, 'XX')) flags |= ZADD_XX;
    else if (req.is(idx, 'CH')) ch = true;
    else if (req.is(idx, 'INCR')) flags |= ZADD_INCR;
    else if (req.is(idx, 'GT')) flags |= ZADD_GT;
    else if (req.is(idx, 'LT')) flags |= ZADD_LT;
    else break;
  }
  const incr = (flags & ZADD_INCR) !== 0;
  const nx = (flags & ZADD_NX) !== 0;
  const gt = (flags & ZADD_GT) !== 0;
  const lt = (flags & ZADD_LT) !== 0;
  let elements = req.argc - idx;
  if (elements % 2 !== 0 || elements === 0) return out.error(E.SYNTAX);
  elements /= 2;
  if (nx && flags & ZADD_XX) return out.error(ERR_XX_NX);
  if ((gt && nx) || (lt && nx) || (gt && lt)) return out.error(ERR_GT_LT_NX);
  if (incr && elements > 1) return out.error(ERR_INCR_PAIR);
  if (elements > scores.length) scores = new Float64Array(elements * 2);
  for (let j = 0; j < elements; j++) {
    const s = argDouble(req, idx + 2 * j);
    if (s !== s) return out.error(E.NOT_FLOAT);
    scores[j] = s;
  }
  let h = lookupZ(c, 0);
  if (h < 0) return;
  let z: ZSet;
  if (h === 0) {
    if (flags & ZADD_XX) {
      if (incr) out.nullBulk();
      else out.integer(0);
      return;
    }
    z = new ZSet(req.len[idx + 1]! > ZSET_MAX_LISTPACK_VALUE);
    h = ks.writeObject(req.db, 0, req.u8, req.off[0]!, req.len[0]!, z, 0);
  } else z = ks.getObject<ZSet>(h);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  let err = false;
  for (let j = 0; j < elements; j++) {
    const m = idx + 1 + 2 * j;
    const r = z.add(req.u8, req.off[m]!, req.len[m]!, scores[j]!, flags);
    if (r & ZADD_NAN) {
      err = true;
      break;
    }
    if (r & ZADD_ADDED) added++;
    if (r & ZADD_UPDATED) updated++;
    if (!(r & ZADD_NOP)) processed++;
    score = z.newScore;
  }
  if (err) out.error(ERR_NAN);
  else if (incr) {
    if (processed > 0) out.double(score);
    else out.nullBulk();
  } else out.integer(ch ? added + updated : added);
  if (added + updated > 0) c.modified(h, NOTIFY_ZSET, incr ? 'zincr' : 'zadd');
}

function zadd(c: ShardContext): void {
  zaddGeneric(c, 0);
}

function zincrby(c: ShardContext): void {
  zaddGeneric(c, ZADD_INCR);
}

function zrem(c: ShardContext): void {
  const { req, out, ks } = c;
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const z = ks.getObject<ZSet>(h);
  let deleted = 0;
  for (let j = 1; j < req.argc; j++) {
    if (z.removeBytes(req.u8, req.off[j]!, req.len[j]!)) deleted++;
    if (z.size === 0) break;
  }
  out.integer(deleted);
  if (deleted > 0) afterRemove(c, h, z, 'zrem');
}

const RANK = 0;
const SCORE = 1;
const LEX = 2;
const scoreRange = newScoreRange();
const lexRange = newLexRange();

function zremrangeGeneric(c: ShardContext, type: number): void {
  const { req, out, ks } = c;
  let start = 0;
  let end = 0;
  if (type === RANK) {
    start = argLong(req, 1);
    end = argLong(req, 2);
    if (start !== start || end !== end) return out.error(E.NOT_INTEGER);
  } else if (type === SCORE) {
    if (!parseScoreRange(req, 1, 2, scoreRange)) return out.error(ERR_NOT_FLOAT_RANGE);
  } else if (!parseLexRange(req, 1, 2, lexRange)) return out.error(ERR_LEX_RANGE);
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const z = ks.getObject<ZSet>(h);
  let deleted: number;
  if (type === RANK) {
    const llen = z.size;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return out.integer(0);
    if (end >= llen) end = llen - 1;
    deleted = z.deleteRangeByRank(start, end);
  } else if (type === SCORE) deleted = z.deleteRangeByScore(scoreRange);
  else deleted = z.deleteRangeByLex(lexRange);
  out.integer(deleted);
  if (deleted > 0) {
    afterRemove(
      c,
      h,
      z,
      type === RANK ? 'zremrangebyrank' : type === SCORE ? 'zremrangebyscore' : 'zremrangebylex',
    );
  }
}

export const zsetWriteHandlers = {
  zadd,
  zincrby,
  zrem,
  zremrangebyrank: (c: ShardContext): void => zremrangeGeneric(c, RANK),
  zremrangebyscore: (c: ShardContext): void => zremrangeGeneric(c, SCORE),
  zremrangebylex: (c: ShardContext): void => zremrangeGeneric(c, LEX),
};
