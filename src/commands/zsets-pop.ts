/**
 * ZPOPMIN / ZPOPMAX, ZMPOP and the shard side of BZPOPMIN / BZPOPMAX / BZMPOP (Redis's
 * genericZpopCommand and blockingGenericZpopCommand). The blocking commands here do what Redis
 * does when a client may not block (inside MULTI): pop when an element is there, else reply a
 * null array; main builds the actual waiting around them. Pops are propagated as ZPOPMIN/ZPOPMAX
 * with the key popped from, like Redis's rewriteClientCommandVector.
 */
import { E } from '../protocol/redis-errors.ts';
import { TYPE_ZSET } from '../store/record.ts';
import type { ZSet } from '../store/types/zset.ts';
import type { ShardContext } from './types.ts';
import { blockTimeoutMs } from './block-timeout.ts';
import { argLong } from './zset-args.ts';
import { afterRemove, lookupZ } from './zsets-common.ts';

const MIN = 0;
const MAX = 1;
const LONG_MAX = 9223372036854775807;
/** Size of the set genericZpop popped from, before popping (for the propagated COUNT). */
let popLen = 0;

/**
 * Pops from the first existing key among arguments [first, first+nkeys). `count` -1 is a plain
 * single pop. `emitKey` prefixes the key (BZPOP*, ZMPOP); `nested` makes (member, score) pairs
 * arrays; `nilWhenEmpty` replies a null array instead of an empty one when no key exists.
 * Returns the key's argument index, -1 when nothing was popped.
 */
function genericZpop(
  c: ShardContext,
  first: number,
  nkeys: number,
  where: number,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): number {
  const { req, out, ks } = c;
  let h = 0;
  let ki = -1;
  for (let i = first; i < first + nkeys; i++) {
    h = lookupZ(c, i);
    if (h < 0) return -1;
    if (h !== 0) {
      ki = i;
      break;
    }
  }
  if (h === 0) {
    if (nilWhenEmpty) out.nullArray();
    else out.arrayHeader(0);
    return -1;
  }
  if (count === 0) {
    out.arrayHeader(0);
    return -1;
  }
  if (count === -1) count = 1;
  const z = ks.getObject<ZSet>(h);
  const llen = z.size;
  popLen = llen;
  let n = count > llen ? llen : count;
  if (!emitKey) out.arrayHeader(nested ? n : n * 2);
  else if (!nested) {
    out.arrayHeader(n * 2 + 1);
    out.bulk(req.u8, req.off[ki]!, req.len[ki]!);
  } else {
    out.arrayHeader(2);
    out.bulk(req.u8, req.off[ki]!, req.len[ki]!);
    out.arrayHeader(n);
  }
  for (; n > 0; n--) {
    const p = where === MAX ? z.last() : z.first();
    if (nested) out.arrayHeader(2);
    z.writeMember(out, p);
    out.double(z.scoreAt(p));
    z.removeAt(p);
  }
  afterRemove(c, h, z, where === MAX ? 'zpopmax' : 'zpopmin');
  return ki;
}

function propagatePop(c: ShardContext, where: number, ki: number, count: number, llen: number): void {
  const name = where === MAX ? 'ZPOPMAX' : 'ZPOPMIN';
  if (count === -1) c.propagate([name, c.req.copy(ki)]);
  else c.propagate([name, c.req.copy(ki), String(count > llen ? llen : count)]);
}

function zpopMinMax(c: ShardContext, where: number): void {
  const { req, out } = c;
  if (req.argc > 2) return out.error(E.SYNTAX);
  let count = -1;
  if (req.argc === 2) {
    count = argLong(req, 1);
    if (count !== count || count < 0) return out.error('ERR value is out of range, must be positive');
  }
  genericZpop(c, 0, 1, where, false, count, out.resp3 && count !== -1, false);
}

/** ZMPOP / BZMPOP argument parsing (zmpopGenericCommand); null after an error reply. */
function parseMpop(
  c: ShardContext,
  numkeysAt: number,
): { nkeys: number; where: number; count: number } | null {
  const { req, out } = c;
  const nkeys = argLong(req, numkeysAt);
  if (nkeys !== nkeys || nkeys < 1 || nkeys > LONG_MAX) {
    out.error('ERR numkeys should be greater than 0');
    return null;
  }
  const whereAt = numkeysAt + nkeys + 1;
  if (whereAt >= req.argc) {
    out.error(E.SYNTAX);
    return null;
  }
  let where: number;
  if (req.is(whereAt, 'MIN')) where = MIN;
  else if (req.is(whereAt, 'MAX')) where = MAX;
  else {
    out.error(E.SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = whereAt + 1; j < req.argc; j++) {
    if (count === -1 && req.is(j, 'COUNT') && j + 1 < req.argc) {
      count = argLong(req, ++j);
      if (count !== count || count < 1) {
        out.error('ERR count should be greater than 0');
        return null;
      }
    } else {
      out.error(E.SYNTAX);
      return null;
    }
  }
  return { nkeys, where, count: count === -1 ? 1 : count };
}

function zmpop(c: ShardContext): void {
  const m = parseMpop(c, 0);
  if (m === null) return;
  const ki = genericZpop(c, 1, m.nkeys, m.where, true, m.count, true, true);
  if (ki >= 0) propagatePop(c, m.where, ki, m.count, popLen);
}

/** The non-blocking part of BZPOPMIN / BZPOPMAX: keys, then the timeout last. */
function bzpop(c: ShardContext, where: number): void {
  const { req, out } = c;
  const t = req.argc - 1;
  const timeout = blockTimeoutMs(req.u8, req.off[t]!, req.len[t]!);
  if (typeof timeout === 'string') return out.error(timeout);
  blockingPop(c, 0, t, where, -1, false);
}

function bzmpop(c: ShardContext): void {
  const m = parseMpop(c, 1);
  if (m === null) return;
  const timeout = blockTimeoutMs(c.req.u8, c.req.off[0]!, c.req.len[0]!);
  if (typeof timeout === 'string') return c.out.error(timeout);
  blockingPop(c, 2, m.nkeys, m.where, m.count, true);
}

/** blockingGenericZpopCommand when the client may not block. */
function blockingPop(
  c: ShardContext,
  first: number,
  nkeys: number,
  where: number,
  count: number,
  nested: boolean,
): void {
  const { req, ks, out } = c;
  for (let i = first; i < first + nkeys; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h === 0) continue;
    if (ks.type(h) !== TYPE_ZSET) return out.error(E.WRONGTYPE);
    // A non-empty zset: pop from exactly this key, like a plain ZPOP*.
    if (genericZpop(c, i, 1, where, true, count, nested, nested) >= 0)
      propagatePop(c, where, i, count, popLen);
    return;
  }
  out.nullArray();
}

export const zsetPopHandlers = {
  zpopmin: (c: ShardContext): void => zpopMinMax(c, MIN),
  zpopmax: (c: ShardContext): void => zpopMinMax(c, MAX),
  zmpop,
  bzpopmin: (c: ShardContext): void => bzpop(c, MIN),
  bzpopmax: (c: ShardContext): void => bzpop(c, MAX),
  bzmpop,
};
