/**
 * ZUNION / ZINTER / ZDIFF, their *STORE forms and ZINTERCARD (Redis's
 * zunionInterDiffGenericCommand). Inputs may be sorted sets or plain sets (every member scores
 * 1); a set is read through its StoreObject dump(), so this does not depend on the set
 * container's internals.
 */
import { E } from '../protocol/redis-errors.ts';
import { TYPE_SET, TYPE_ZSET } from '../store/record.ts';
import { ZSet, writeLatin1Bulk } from '../store/types/zset.ts';
import { latin1 } from '../store/types/zset-listpack.ts';
import type { ShardContext } from './types.ts';
import { argDouble, argLong } from './zset-args.ts';
import { storeResult } from './zsets-common.ts';
import { keyMiss } from './modified.ts';

const UNION = 0;
const INTER = 1;
const DIFF = 2;
const SUM = 0;
const AMIN = 1;
const AMAX = 2;

/** One input: a zset, a set's members, or nothing (missing key). */
interface Source {
  z: ZSet | null;
  members: string[] | null;
  set: Set<string> | null;
  weight: number;
  size: number;
}

function sourceOf(obj: ZSet | null, members: string[] | null): Source {
  return {
    z: obj,
    members,
    set: null,
    weight: 1,
    size: obj !== null ? obj.size : members !== null ? members.length : 0,
  };
}

/** Score of member e in s, NaN when absent (zuiFind). */
function find(s: Source, e: string): number {
  if (s.z !== null) {
    const p = s.z.findStr(e);
    return p < 0 ? NaN : s.z.scoreAt(p);
  }
  if (s.members === null) return NaN;
  s.set ??= new Set(s.members);
  return s.set.has(e) ? 1 : NaN;
}

/** Calls fn(member, score) for every element (zuiNext; a zset is walked from its tail). */
function each(s: Source, fn: (e: string, score: number) => boolean | void): void {
  if (s.z !== null) {
    const z = s.z;
    for (let p = z.last(); p !== -1; p = z.prev(p)) if (fn(z.memberAt(p), z.scoreAt(p)) === false) return;
  } else if (s.members !== null) {
    for (const e of s.members) if (fn(e, 1) === false) return;
  }
}

function aggregate(target: number, v: number, agg: number): number {
  if (agg === SUM) {
    const r = target + v;
    return r !== r ? 0 : r;
  }
  if (agg === AMIN) return v < target ? v : target;
  return v > target ? v : target;
}

/**
 * `dst` is the destination argument (-1 without), `numkeysAt` the numkeys argument; `name` is
 * the command for the "at least 1 input key" error.
 */
function zsetOp(
  c: ShardContext,
  name: string,
  dst: number,
  numkeysAt: number,
  op: number,
  cardOnly: boolean,
): void {
  const { req, out, ks } = c;
  const setnum = argLong(req, numkeysAt);
  if (setnum !== setnum) return out.error(E.NOT_INTEGER);
  if (setnum < 1) return out.error(`ERR at least 1 input key is needed for '${name}' command`);
  if (setnum > req.argc - (numkeysAt + 1)) return out.error(E.SYNTAX);
  const src: Source[] = [];
  let j = numkeysAt + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const h = ks.lookup(req.db, req.u8, req.off[j]!, req.len[j]!);
    if (h === 0) {
      keyMiss(c, j);
      src.push(sourceOf(null, null));
      continue;
    }
    const t = ks.type(h);
    if (t === TYPE_ZSET) src.push(sourceOf(ks.getObject<ZSet>(h), null));
    else if (t === TYPE_SET)
      src.push(
        sourceOf(
          null,
          ks
            .getObject(h)
            .dump()
            .map((m) => latin1(m, 0, m.length)),
        ),
      );
    else return out.error(E.WRONGTYPE);
    ks.hits++;
  }
  let agg = SUM;
  let withscores = false;
  let limit = 0;
  while (j < req.argc) {
    const remaining = req.argc - j;
    if (op !== DIFF && !cardOnly && remaining >= setnum + 1 && req.is(j, 'WEIGHTS')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = argDouble(req, j);
        if (w !== w) return out.error('ERR weight value is not a float');
        src[i]!.weight = w;
      }
    } else if (op !== DIFF && !cardOnly && remaining >= 2 && req.is(j, 'AGGREGATE')) {
      if (req.is(j + 1, 'SUM')) agg = SUM;
      else if (req.is(j + 1, 'MIN')) agg = AMIN;
      else if (req.is(j + 1, 'MAX')) agg = AMAX;
      else return out.error(E.SYNTAX);
      j += 2;
    } else if (remaining >= 1 && dst < 0 && !cardOnly && req.is(j, 'WITHSCORES')) {
      withscores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && req.is(j, 'LIMIT')) {
      limit = argLong(req, j + 1);
      if (limit !== limit || limit < 0) return out.error("ERR LIMIT can't be negative");
      j += 2;
    } else return out.error(E.SYNTAX);
  }
  // Smallest inputs first, as Redis sorts them (stable, so equal sizes keep argument order).
  if (op !== DIFF) src.sort((a, b) => a.size - b.size);

  const acc = new Map<string, number>();
  let card = 0;
  if (op === INTER) {
    if (src[0]!.size > 0) {
      const s0 = src[0]!;
      each(s0, (e, score0) => {
        let score = s0.weight * score0;
        if (score !== score) score = 0;
        let k = 1;
        for (; k < setnum; k++) {
          const sk = src[k]!;
          const v = sk.z !== null && sk.z === s0.z ? score0 : find(sk, e);
          if (v !== v) break;
          score = aggregate(score, v * sk.weight, agg);
        }
        if (k < setnum) return true;
        if (cardOnly) {
          card++;
          return limit === 0 || card < limit;
        }
        acc.set(e, score);
        return true;
      });
    }
  } else if (op === UNION) {
    for (const s of src) {
      each(s, (e, score0) => {
        let score = s.weight * score0;
        if (score !== score) score = 0;
        const cur = acc.get(e);
        acc.set(e, cur === undefined ? score : aggregate(cur, score, agg));
      });
    }
  } else {
    const s0 = src[0]!;
    each(s0, (e, score) => {
      for (let k = 1; k < setnum; k++) {
        const v = find(src[k]!, e);
        if (v === v) return;
      }
      acc.set(e, score);
    });
  }
  if (cardOnly) return out.integer(card);

  const eles = [...acc.keys()];
  const scores = eles.map((e) => acc.get(e)!);
  const order = sortedOrder(eles, scores);
  if (dst >= 0) {
    const n = order.length;
    const z =
      n === 0
        ? null
        : ZSet.build(
            n,
            (i) => scores[order[i]!]!,
            (i) => eles[order[i]!]!,
          );
    storeResult(c, dst, z, op === UNION ? 'zunionstore' : op === INTER ? 'zinterstore' : 'zdiffstore');
    return;
  }
  out.arrayHeader(withscores && !out.resp3 ? order.length * 2 : order.length);
  for (const i of order) {
    if (withscores && out.resp3) out.arrayHeader(2);
    writeLatin1Bulk(out, eles[i]!);
    if (withscores) out.double(scores[i]!);
  }
}

/** Indexes of the entries in (score, member) order. */
function sortedOrder(eles: string[], scores: number[]): Int32Array {
  const order = new Int32Array(eles.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa !== sb) return sa < sb ? -1 : 1;
    const ea = eles[a]!;
    const eb = eles[b]!;
    return ea < eb ? -1 : ea > eb ? 1 : 0;
  });
}

export const zsetAlgebraHandlers = {
  zunion: (c: ShardContext): void => zsetOp(c, 'zunion', -1, 0, UNION, false),
  zinter: (c: ShardContext): void => zsetOp(c, 'zinter', -1, 0, INTER, false),
  zdiff: (c: ShardContext): void => zsetOp(c, 'zdiff', -1, 0, DIFF, false),
  zintercard: (c: ShardContext): void => zsetOp(c, 'zintercard', -1, 0, INTER, true),
  zunionstore: (c: ShardContext): void => zsetOp(c, 'zunionstore', 0, 1, UNION, false),
  zinterstore: (c: ShardContext): void => zsetOp(c, 'zinterstore', 0, 1, INTER, false),
  zdiffstore: (c: ShardContext): void => zsetOp(c, 'zdiffstore', 0, 1, DIFF, false),
};
