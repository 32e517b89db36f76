/**
 * ZRANGE (BYSCORE | BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE and the older ZREVRANGE,
 * Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX: one parser and three walkers, as Redis's
 * zrangeGenericCommand. Positions are collected first, so the reply header is exact.
 */
import { E } from '../protocol/redis-errors.ts';
import { lteMax, gteMin } from '../store/types/zset-range.ts';
import { ZSet } from '../store/types/zset.ts';
import type { ShardContext } from './types.ts';
import { argLong, newLexRange, newScoreRange, parseLexRange, parseScoreRange } from './zset-args.ts';
import { entriesHeader, lookupZ, positions, pushPosition, storeResult, writeEntry } from './zsets-common.ts';
import { ERR_LEX_RANGE, ERR_NOT_FLOAT_RANGE } from './zsets-write.ts';

const AUTO = 0;
const RANK = 1;
const SCORE = 2;
const LEX = 3;
const FORWARD = 1;
const REVERSE = 2;

const scoreRange = newScoreRange();
const lexRange = newLexRange();

/**
 * `src` is the argument index of the source key (min and max follow it); with `store` the
 * result goes to key argument 0 (ZRANGESTORE dst src ...).
 */
function zrangeGeneric(c: ShardContext, src: number, store: boolean, type: number, dir: number): void {
  const { req, out, ks } = c;
  let withscores = false;
  let offset = 0;
  let limit = -1;
  let hasLimit = false;
  for (let j = src + 3; j < req.argc; j++) {
    const left = req.argc - j - 1;
    if (!store && req.is(j, 'WITHSCORES')) withscores = true;
    else if (req.is(j, 'LIMIT') && left >= 2) {
      offset = argLong(req, j + 1);
      if (offset !== offset) return out.error(E.NOT_INTEGER);
      limit = argLong(req, j + 2);
      if (limit !== limit) return out.error(E.NOT_INTEGER);
      hasLimit = limit !== -1;
      j += 2;
    } else if (dir === AUTO && req.is(j, 'REV')) dir = REVERSE;
    else if (type === AUTO && req.is(j, 'BYLEX')) type = LEX;
    else if (type === AUTO && req.is(j, 'BYSCORE')) type = SCORE;
    else return out.error(E.SYNTAX);
  }
  if (dir === AUTO) dir = FORWARD;
  if (type === AUTO) type = RANK;
  if (hasLimit && type === RANK) {
    return out.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (withscores && type === LEX) {
    return out.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  const reverse = dir === REVERSE;
  // Score and lex ranges are given as max, min when reversed.
  const iMin = reverse && type !== RANK ? src + 2 : src + 1;
  const iMax = reverse && type !== RANK ? src + 1 : src + 2;
  let start = 0;
  let end = 0;
  if (type === RANK) {
    start = argLong(req, iMin);
    end = argLong(req, iMax);
    if (start !== start || end !== end) return out.error(E.NOT_INTEGER);
  } else if (type === SCORE) {
    if (!parseScoreRange(req, iMin, iMax, scoreRange)) return out.error(ERR_NOT_FLOAT_RANGE);
  } else if (!parseLexRange(req, iMin, iMax, lexRange)) return out.error(ERR_LEX_RANGE);

  const h = lookupZ(c, src);
  if (h < 0) return;
  if (h === 0) {
    if (store) storeResult(c, 0, null, 'zrangestore');
    else out.arrayHeader(0);
    return;
  }
  const z = ks.getObject<ZSet>(h);
  let n: number;
  if (type === RANK) n = byRank(z, start, end, reverse);
  else if (type === SCORE) n = byScore(z, offset, limit, reverse);
  else n = byLex(z, offset, limit, reverse);

  if (store) {
    // Like Redis: a new listpack, then each element added in walk order, so the point where
    // it turns into a skiplist (and which scores went through the listpack's text form, where
    // -0 becomes 0) is the same.
    let dst: ZSet | null = null;
    if (n > 0) {
      dst = new ZSet();
      for (let k = 0; k < n; k++) dst.addStr(z.memberAt(positions[k]!), z.scoreAt(positions[k]!), 0);
    }
    storeResult(c, 0, dst, 'zrangestore');
    return;
  }
  entriesHeader(out, n, withscores);
  for (let k = 0; k < n; k++) writeEntry(out, z, positions[k]!, withscores);
}

function byRank(z: ZSet, start: number, end: number, reverse: boolean): number {
  const llen = z.size;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return 0;
  if (end >= llen) end = llen - 1;
  let p = z.atRank(reverse ? llen - 1 - start : start);
  let n = 0;
  for (let k = start; k <= end; k++) {
    n = pushPosition(n, p);
    p = reverse ? z.prev(p) : z.next(p);
  }
  return n;
}

/**
 * Redis's loops: `while (ln && offset--)` skips offset entries (a negative offset never stops
 * before the end: empty result), then `while (ln && limit--)` takes entries (negative: all).
 */
function byScore(z: ZSet, offset: number, limit: number, reverse: boolean): number {
  if (offset > 0 && offset >= z.size) return 0;
  let p = reverse ? z.lastInRange(scoreRange) : z.firstInRange(scoreRange);
  p = skip(z, p, offset, reverse);
  let n = 0;
  for (; p !== -1 && limit !== 0; limit--) {
    const s = z.scoreAt(p);
    if (reverse ? !gteMin(s, scoreRange) : !lteMax(s, scoreRange)) break;
    n = pushPosition(n, p);
    p = reverse ? z.prev(p) : z.next(p);
  }
  return n;
}

function byLex(z: ZSet, offset: number, limit: number, reverse: boolean): number {
  let p = reverse ? z.lastInLex(lexRange) : z.firstInLex(lexRange);
  p = skip(z, p, offset, reverse);
  let n = 0;
  for (; p !== -1 && limit !== 0; limit--) {
    if (reverse ? !z.lexGteMin(p, lexRange) : !z.lexLteMax(p, lexRange)) break;
    n = pushPosition(n, p);
    p = reverse ? z.prev(p) : z.next(p);
  }
  return n;
}

function skip(z: ZSet, p: number, offset: number, reverse: boolean): number {
  if (offset < 0) return -1;
  if (offset > 0 && p !== -1 && !reverse && z.lp !== null) return p + offset < z.size ? p + offset : -1;
  for (; p !== -1 && offset > 0; offset--) p = reverse ? z.prev(p) : z.next(p);
  return p;
}

export const zsetRangeHandlers = {
  zrange: (c: ShardContext): void => zrangeGeneric(c, 0, false, AUTO, AUTO),
  zrangestore: (c: ShardContext): void => zrangeGeneric(c, 1, true, AUTO, AUTO),
  zrevrange: (c: ShardContext): void => zrangeGeneric(c, 0, false, RANK, REVERSE),
  zrangebyscore: (c: ShardContext): void => zrangeGeneric(c, 0, false, SCORE, FORWARD),
  zrevrangebyscore: (c: ShardContext): void => zrangeGeneric(c, 0, false, SCORE, REVERSE),
  zrangebylex: (c: ShardContext): void => zrangeGeneric(c, 0, false, LEX, FORWARD),
  zrevrangebylex: (c: ShardContext): void => zrangeGeneric(c, 0, false, LEX, REVERSE),
};
