/**
 * Set commands over several keys (Redis 7.0 t_set.c sinterGenericCommand,
 * sunionDiffGenericCommand, smoveCommand). Route 'multi': each handler is written as if every
 * key were local; main runs it in the keys' shard, or on a scratch keyspace when they are spread
 * over several. Missing keys are empty sets, and every key is type-checked before any work.
 */
import { scanInt64 } from '../protocol/numbers.ts';
import { E, E_HS } from '../protocol/redis-errors.ts';
import { TYPE_SET } from '../store/record.ts';
import { createSet, memberOf, SetObject, type Member, type MemberRef } from '../store/types/set.ts';
import { bulkInt } from './coll-util.ts';
import { NOTIFY_GENERIC, NOTIFY_SET } from './notify-flags.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

/**
 * The key at argument i: its handle, 0 when absent, -1 after replying WRONGTYPE. Like Redis's
 * lookupKeyRead/lookupKeyWrite it records the access, and reads count keyspace hits/misses.
 */
export function lookupSet(c: ShardContext, i: number, read = true): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (h !== 0) ks.touch(h);
  if (read) {
    if (h !== 0) ks.hits++;
    else keyMiss(c, i);
  }
  if (h !== 0 && ks.type(h) !== TYPE_SET) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  return h;
}

const mref: MemberRef = { buf: new Uint8Array(0), off: 0, len: 0 };

/** Member i of the set as a bulk reply (integers printed from the intset directly). */
export function replyMember(c: ShardContext, set: SetObject, i: number): void {
  if (set.isIntset()) return bulkInt(c.out, set.intAt(i));
  set.refAt(i, mref);
  c.out.bulk(mref.buf, mref.off, mref.len);
}

/**
 * The sets at arguments [from, to): null for a missing key, or null overall after replying
 * WRONGTYPE (Redis checks every key's type before it uses any).
 */
function loadSets(c: ShardContext, from: number, to: number): (SetObject | null)[] | null {
  const sets: (SetObject | null)[] = [];
  for (let i = from; i < to; i++) {
    const h = lookupSet(c, i);
    if (h < 0) return null;
    sets.push(h === 0 ? null : c.ks.getObject<SetObject>(h));
  }
  return sets;
}

/**
 * Stores `result` at argument `dst` (Redis setKey: replaces any value and TTL) or, when it is
 * empty, deletes what was there. Replies with the result's size.
 */
function store(c: ShardContext, dst: number, result: SetObject, event: string): void {
  const { ks, req, out } = c;
  const h = ks.lookup(req.db, req.u8, req.off[dst]!, req.len[dst]!);
  if (result.size > 0) {
    const nh = ks.writeObject(req.db, h, req.u8, req.off[dst]!, req.len[dst]!, result, 0);
    out.integer(result.size);
    c.modified(nh, NOTIFY_SET, event);
    return;
  }
  out.integer(0);
  if (h !== 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    ks.removeFound(h);
  }
}

const CARD = -2;

/**
 * SINTER, SMEMBERS, SINTERSTORE (dst ≥ 0) and SINTERCARD (dst = CARD): walk the smallest set
 * and keep the members every other set has, in the smallest set's order.
 */
function inter(c: ShardContext, from: number, to: number, dst: number, limit = 0): void {
  const { out } = c;
  const loaded = loadSets(c, from, to);
  if (loaded === null) return;
  if (loaded.includes(null)) {
    if (dst >= 0) return store(c, dst, new SetObject(), 'sinterstore');
    return dst === CARD ? out.integer(0) : out.setHeader(0);
  }
  // Array.prototype.sort is stable, like the glibc qsort (a merge sort) Redis gets.
  const sets = (loaded as SetObject[]).sort((a, b) => a.size - b.size);
  const first = sets[0]!;
  const keep: number[] = [];
  for (let i = 0; i < first.size; i++) {
    const m = first.at(i);
    let j = 1;
    for (; j < sets.length; j++) if (sets[j] !== first && !sets[j]!.has(m)) break;
    if (j < sets.length) continue;
    keep.push(i);
    if (dst === CARD && limit > 0 && keep.length >= limit) break;
  }
  if (dst === CARD) return out.integer(keep.length);
  if (dst >= 0) {
    const result = new SetObject();
    for (const i of keep) result.add(first.at(i));
    return store(c, dst, result, 'sinterstore');
  }
  out.setHeader(keep.length);
  for (const i of keep) replyMember(c, first, i);
}

const UNION = 0;
const DIFF = 1;

/**
 * SUNION/SDIFF and their STORE forms: the result is built as a new set (an intset while it can
 * be, so an all-integer result comes out ascending, as in Redis).
 */
function unionDiff(c: ShardContext, from: number, to: number, dst: number, op: number): void {
  const sets = loadSets(c, from, to);
  if (sets === null) return;
  const result = new SetObject();
  if (op === UNION) {
    for (const s of sets) if (s !== null) for (let i = 0; i < s.size; i++) result.add(s.at(i));
  } else {
    const first = sets[0]!;
    // The first key repeated later leaves nothing (Redis's sameset shortcut).
    if (first !== null && !sets.includes(first, 1)) {
      for (let i = 0; i < first.size; i++) {
        const m = first.at(i);
        let j = 1;
        for (; j < sets.length; j++) if (sets[j] !== null && sets[j]!.has(m)) break;
        if (j === sets.length) result.add(m);
      }
    }
  }
  if (dst >= 0) return store(c, dst, result, op === UNION ? 'sunionstore' : 'sdiffstore');
  c.out.setHeader(result.size);
  for (let i = 0; i < result.size; i++) replyMember(c, result, i);
}

/** SMOVE source destination member. */
function smove(c: ShardContext): void {
  const { ks, req, out } = c;
  const hs = lookupSet(c, 0, false);
  if (hs < 0) return;
  let hd = ks.lookup(req.db, req.u8, req.off[1]!, req.len[1]!);
  if (hd !== 0) ks.touch(hd);
  if (hs === 0) return out.integer(0);
  if (hd !== 0 && ks.type(hd) !== TYPE_SET) return out.error(E.WRONGTYPE);
  const m: Member = memberOf(req.u8, req.off[2]!, req.len[2]!);
  const src = ks.getObject<SetObject>(hs);
  if (hs === hd) return out.integer(src.has(m) ? 1 : 0);
  if (!src.remove(m)) return out.integer(0);
  c.modified(hs, NOTIFY_SET, 'srem');
  if (src.size === 0) {
    c.modified(hs, NOTIFY_GENERIC, 'del');
    // removeFound must follow the lookup of the key it removes.
    ks.removeFound(ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!));
  }
  let dstSet: SetObject;
  hd = ks.lookup(req.db, req.u8, req.off[1]!, req.len[1]!);
  if (hd === 0) {
    dstSet = createSet(m);
    hd = ks.writeObject(req.db, 0, req.u8, req.off[1]!, req.len[1]!, dstSet, 0);
  } else dstSet = ks.getObject<SetObject>(hd);
  if (dstSet.add(m)) c.modified(hd, NOTIFY_SET, 'sadd');
  out.integer(1);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]. */
function sintercard(c: ShardContext): void {
  const { req, out } = c;
  const n = argInt64(req, 0);
  if (n === null || n < 1) return out.error(E_HS.NUMKEYS);
  const numkeys = Number(n);
  if (numkeys > req.argc - 1) return out.error(E_HS.NUMKEYS_ARGS);
  let limit = 0;
  for (let j = 1 + numkeys; j < req.argc; j++) {
    if (req.is(j, 'LIMIT') && j + 1 < req.argc) {
      const l = argInt64(req, ++j);
      if (l === null || l < 0) return out.error(E_HS.LIMIT_NEGATIVE);
      limit = Number(l);
    } else return out.error(E.SYNTAX);
  }
  inter(c, 1, 1 + numkeys, CARD, limit);
}

/** Key positions of SINTERCARD for the router (argv[0] is the command name). */
function sintercardKeys(argc: number, arg: (i: number) => string): number[] | string {
  const s = Buffer.from(arg(1), 'latin1');
  const n = scanInt64(s, 0, s.length);
  if (n !== n || n < 1) return E_HS.NUMKEYS;
  if (n > argc - 2) return E_HS.NUMKEYS_ARGS;
  const keys: number[] = [];
  for (let i = 0; i < n; i++) keys.push(2 + i);
  return keys;
}

export const setOpCommands: CommandDef[] = [
  { name: 'smembers', route: 'key', shard: (c) => inter(c, 0, 1, -1) },
  { name: 'smove', route: 'multi', shard: smove },
  { name: 'sinter', route: 'multi', shard: (c) => inter(c, 0, c.req.argc, -1) },
  { name: 'sintercard', route: 'multi', shard: sintercard, keys: sintercardKeys },
  { name: 'sinterstore', route: 'multi', shard: (c) => inter(c, 1, c.req.argc, 0) },
  { name: 'sunion', route: 'multi', shard: (c) => unionDiff(c, 0, c.req.argc, -1, UNION) },
  { name: 'sunionstore', route: 'multi', shard: (c) => unionDiff(c, 1, c.req.argc, 0, UNION) },
  { name: 'sdiff', route: 'multi', shard: (c) => unionDiff(c, 0, c.req.argc, -1, DIFF) },
  { name: 'sdiffstore', route: 'multi', shard: (c) => unionDiff(c, 1, c.req.argc, 0, DIFF) },
];
