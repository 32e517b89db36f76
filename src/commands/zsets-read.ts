/**
 * Sorted-set reads that are not ranges: ZCARD, ZSCORE, ZMSCORE, ZRANK/ZREVRANK (with Redis 7.2's
 * WITHSCORE), ZCOUNT, ZLEXCOUNT, ZRANDMEMBER and ZSCAN.
 */
import { formatDouble17g } from '../protocol/numbers.ts';
import { E, wrongArity } from '../protocol/redis-errors.ts';
import type { ZSet } from '../store/types/zset.ts';
import { globMatch } from '../util/glob.ts';
import type { ShardContext } from './types.ts';
import { argLong, newLexRange, newScoreRange, parseLexRange, parseScoreRange } from './zset-args.ts';
import { entriesHeader, lookupZ, positions, pushPosition, writeEntry } from './zsets-common.ts';
import { ERR_LEX_RANGE, ERR_NOT_FLOAT_RANGE } from './zsets-write.ts';

function zcard(c: ShardContext): void {
  const h = lookupZ(c, 0);
  if (h >= 0) c.out.integer(h === 0 ? 0 : c.ks.getObject<ZSet>(h).size);
}

function zscore(c: ShardContext): void {
  const { req, out, ks } = c;
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.nullBulk();
  const z = ks.getObject<ZSet>(h);
  const p = z.findBytes(req.u8, req.off[1]!, req.len[1]!);
  if (p < 0) out.nullBulk();
  else out.double(z.scoreAt(p));
}

function zmscore(c: ShardContext): void {
  const { req, out, ks } = c;
  const h = lookupZ(c, 0);
  if (h < 0) return;
  const z = h === 0 ? null : ks.getObject<ZSet>(h);
  out.arrayHeader(req.argc - 1);
  for (let j = 1; j < req.argc; j++) {
    const p = z === null ? -1 : z.findBytes(req.u8, req.off[j]!, req.len[j]!);
    if (p < 0) out.nullBulk();
    else out.double(z!.scoreAt(p));
  }
}

/** ZRANK / ZREVRANK key member [WITHSCORE] (the option is Redis 7.2's). */
function zrankGeneric(c: ShardContext, reverse: boolean): void {
  const { req, out, ks } = c;
  if (req.argc > 3) return out.error(wrongArity(reverse ? 'zrevrank' : 'zrank'));
  let withscore = false;
  if (req.argc === 3) {
    if (!req.is(2, 'WITHSCORE')) return out.error(E.SYNTAX);
    withscore = true;
  }
  const h = lookupZ(c, 0);
  if (h < 0) return;
  const z = h === 0 ? null : ks.getObject<ZSet>(h);
  const p = z === null ? -1 : z.findBytes(req.u8, req.off[1]!, req.len[1]!);
  if (p < 0) {
    if (withscore) out.nullArray();
    else out.nullBulk();
    return;
  }
  const r = z!.rankOf(p);
  if (withscore) out.arrayHeader(2);
  out.integer(reverse ? z!.size - 1 - r : r);
  if (withscore) out.double(z!.scoreAt(p));
}

const scoreRange = newScoreRange();
const lexRange = newLexRange();

function zcount(c: ShardContext): void {
  const { req, out, ks } = c;
  if (!parseScoreRange(req, 1, 2, scoreRange)) return out.error(ERR_NOT_FLOAT_RANGE);
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const z = ks.getObject<ZSet>(h);
  const first = z.firstInRange(scoreRange);
  out.integer(first < 0 ? 0 : z.rankOf(z.lastInRange(scoreRange)) - z.rankOf(first) + 1);
}

function zlexcount(c: ShardContext): void {
  const { req, out, ks } = c;
  if (!parseLexRange(req, 1, 2, lexRange)) return out.error(ERR_LEX_RANGE);
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const z = ks.getObject<ZSet>(h);
  const first = z.firstInLex(lexRange);
  out.integer(first < 0 ? 0 : z.rankOf(z.lastInLex(lexRange)) - z.rankOf(first) + 1);
}

const LONG_MAX = 9223372036854775807;
/**
 * Deviation: Redis 7.0 tries to build a reply of any requested size (a huge negative count
 * exhausts its memory); we refuse replies of more elements than this.
 */
const RANDOM_REPLY_MAX = 1 << 24;

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

function zrandmember(c: ShardContext): void {
  const { req, out, ks } = c;
  if (req.argc === 1) {
    const h = lookupZ(c, 0);
    if (h < 0) return;
    if (h === 0) return out.nullBulk();
    const z = ks.getObject<ZSet>(h);
    z.writeMember(out, z.atRank(randomIndex(z.size)));
    return;
  }
  const v = argLong(req, 1);
  if (v !== v) return out.error(E.NOT_INTEGER);
  if (v < -LONG_MAX) {
    return out.error(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  }
  if (req.argc > 3 || (req.argc === 3 && !req.is(2, 'WITHSCORES'))) return out.error(E.SYNTAX);
  const withscores = req.argc === 3;
  if (withscores && (v < -LONG_MAX / 2 || v > LONG_MAX / 2)) return out.error('ERR value is out of range');
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) return out.arrayHeader(0);
  const z = ks.getObject<ZSet>(h);
  const size = z.size;
  const uniq = v >= 0;
  const count = uniq ? v : -v;
  if (count === 0) return out.arrayHeader(0);
  if (!uniq || count === 1) {
    if (count > RANDOM_REPLY_MAX) return out.error('ERR value is out of range');
    entriesHeader(out, count, withscores);
    for (let k = 0; k < count; k++) writeEntry(out, z, z.atRank(randomIndex(size)), withscores);
    return;
  }
  if (count >= size) {
    // Redis walks the whole set with its zset iterator, which goes from the tail.
    entriesHeader(out, size, withscores);
    for (let p = z.last(); p !== -1; p = z.prev(p)) writeEntry(out, z, p, withscores);
    return;
  }
  // count distinct ranks: a partial Fisher-Yates shuffle over the ranks.
  const ranks = new Int32Array(size);
  for (let k = 0; k < size; k++) ranks[k] = k;
  for (let k = 0; k < count; k++) {
    const j = k + randomIndex(size - k);
    const t = ranks[k]!;
    ranks[k] = ranks[j]!;
    ranks[j] = t;
  }
  const chosen = ranks.subarray(0, count);
  // A listpack sample comes back in listpack order (lpRandomPairsUnique).
  if (z.lp !== null) chosen.sort();
  entriesHeader(out, count, withscores);
  for (let k = 0; k < count; k++) writeEntry(out, z, z.atRank(chosen[k]!), withscores);
}

/** parseScanCursorOrReply: strtoul over the whole argument; NaN when invalid. */
function scanCursor(c: ShardContext): number {
  const { req } = c;
  const off = req.off[1]!;
  const len = req.len[1]!;
  const u8 = req.u8;
  if (len === 0) return 0;
  let p = off;
  const end = off + len;
  if (u8[p] === 32 || (u8[p]! >= 9 && u8[p]! <= 13)) return NaN;
  let neg = false;
  if (u8[p] === 43 || u8[p] === 45) neg = u8[p++] === 45;
  if (p === end) return NaN;
  let v = 0n;
  for (; p < end; p++) {
    const d = u8[p]! - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10n + BigInt(d);
    if (v > 0xffffffffffffffffn) return NaN;
  }
  // "-n" wraps around like C's strtoul; such cursors are past every set's end.
  return neg && v !== 0n ? Infinity : Number(v);
}

let memberScratch = new Uint8Array(64);

function zscan(c: ShardContext): void {
  const { req, out, ks } = c;
  const cursor = scanCursor(c);
  if (cursor !== cursor) return out.error(E.INVALID_CURSOR);
  const h = lookupZ(c, 0);
  if (h < 0) return;
  if (h === 0) {
    out.arrayHeader(2);
    out.bulkString('0');
    out.arrayHeader(0);
    return;
  }
  let count = 10;
  let po = -1;
  let pl = 0;
  for (let j = 2; j < req.argc;) {
    const more = req.argc - j >= 2;
    if (more && req.is(j, 'COUNT')) {
      count = argLong(req, j + 1);
      if (count !== count) return out.error(E.NOT_INTEGER);
      if (count < 1) return out.error(E.SYNTAX);
      j += 2;
    } else if (more && req.is(j, 'MATCH')) {
      po = req.off[j + 1]!;
      pl = req.len[j + 1]!;
      if (pl === 1 && req.u8[po] === 42) po = -1;
      j += 2;
    } else return out.error(E.SYNTAX);
  }
  const z = ks.getObject<ZSet>(h);
  // A listpack is returned whole (cursor 0); a skiplist is walked by rank, `count` at a time.
  let p: number;
  let left: number;
  let next = 0;
  if (z.lp !== null) {
    p = z.first();
    left = z.size;
  } else {
    p = cursor < z.size ? z.atRank(cursor) : -1;
    left = count;
    if (cursor + count < z.size) next = cursor + count;
  }
  let n = 0;
  for (; p !== -1 && left > 0; p = z.next(p), left--) {
    if (po >= 0 && !matches(z, p, req.u8, po, pl)) continue;
    n = pushPosition(n, p);
  }
  out.arrayHeader(2);
  out.bulkString(String(next));
  out.arrayHeader(n * 2);
  for (let k = 0; k < n; k++) {
    const q = positions[k]!;
    z.writeMember(out, q);
    out.bulkString(formatDouble17g(z.scoreAt(q)));
  }
}

function matches(z: ZSet, p: number, pat: Uint8Array, po: number, pl: number): boolean {
  if (z.lp !== null) {
    const o = z.lp.offs[p]!;
    return globMatch(pat, po, pl, z.lp.data, o, z.lp.offs[p + 1]! - o, false);
  }
  const s = z.memberAt(p);
  if (s.length > memberScratch.length) memberScratch = new Uint8Array(s.length * 2);
  for (let k = 0; k < s.length; k++) memberScratch[k] = s.charCodeAt(k);
  return globMatch(pat, po, pl, memberScratch, 0, s.length, false);
}

export const zsetReadHandlers = {
  zcard,
  zscore,
  zmscore,
  zrank: (c: ShardContext): void => zrankGeneric(c, false),
  zrevrank: (c: ShardContext): void => zrankGeneric(c, true),
  zcount,
  zlexcount,
  zrandmember,
  zscan,
};
