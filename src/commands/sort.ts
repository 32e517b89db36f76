/**
 * SORT and SORT_RO (sort.c) over lists, sets and sorted sets: BY pattern (a pattern without
 * '*' means "don't sort"), GET patterns ('#' = the element, 'key->field' = a hash field),
 * LIMIT, ASC|DESC, ALPHA, STORE.
 *
 * Collections are read through StoreObject.dump() (list: head→tail; set: members; zset:
 * member, score… in rank order) and hash fields through the hash's dump(), so this file does
 * not depend on how the containers are built. STORE writes a list with restoreObject().
 *
 * Ordering matches Redis: numeric sort by strtod score with ties broken by the bytes, ALPHA by
 * strcoll (the C.UTF-8 locale: code point order, up to a NUL) or by bytes with STORE, and a
 * stable sort as glibc's qsort is a merge sort. Ties Redis leaves to its own iteration order
 * (ALPHA with BY on equal or missing weights, over a set or zset; BY + LIMIT uses an unstable
 * partial quicksort there) can come out in another order here.
 *
 * BY and GET patterns name keys the command's key list does not contain: they are read from
 * this shard, which holds them when every key shares a hash tag or there is one shard.
 */
import { E } from '../protocol/redis-errors.ts';
import { restoreObject } from '../store/object.ts';
import { TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_STRING, TYPE_ZSET } from '../store/record.ts';
import { NOTIFY_GENERIC, NOTIFY_LIST } from './notify-flags.ts';
import { argInt64 } from './shard-util.ts';
import { binaryCompare, collate, sortScore } from './sort-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

interface Item {
  obj: Uint8Array;
  score: number;
  /** ALPHA with BY: the weight value, null when its key is missing. */
  cmp: Uint8Array | null;
}

/** Argument index of a pattern, and the per-command cache of hash dumps. */
interface Patterns {
  c: ShardContext;
  hashes: Map<number, Map<string, Uint8Array>>;
  /** A pattern named a key that lives in another shard: the reply is an error, not a wrong sort. */
  foreign: boolean;
}

let keyBuf = new Uint8Array(256);

/**
 * lookupKeyByPattern: '#' is the element itself; otherwise the first '*' of the pattern is
 * replaced by the element, and "->field" (after the '*', with a non-empty field) reads a hash
 * field. Null when there is no '*', the key is missing or has the wrong type.
 */
function byPattern(pt: Patterns, arg: number, subst: Uint8Array): Uint8Array | null {
  const { ks, req } = pt.c;
  const u8 = req.u8;
  const po = req.off[arg]!;
  const plen = req.len[arg]!;
  if (plen === 1 && u8[po] === 35) return subst;
  let star = -1;
  for (let i = 0; i < plen; i++) {
    if (u8[po + i] === 42) {
      star = i;
      break;
    }
  }
  if (star < 0) return null;
  let arrow = -1;
  for (let i = star + 1; i + 1 < plen; i++) {
    if (u8[po + i] === 45 && u8[po + i + 1] === 62) {
      arrow = i;
      break;
    }
  }
  if (arrow >= 0 && arrow + 2 >= plen) arrow = -1; // an empty field name is no field
  const postEnd = arrow >= 0 ? arrow : plen;
  const klen = star + subst.length + (postEnd - star - 1);
  if (keyBuf.length < klen) keyBuf = new Uint8Array(klen * 2);
  keyBuf.set(u8.subarray(po, po + star), 0);
  keyBuf.set(subst, star);
  keyBuf.set(u8.subarray(po + star + 1, po + postEnd), star + subst.length);
  if (pt.c.ownsKey !== undefined && !pt.c.ownsKey(keyBuf, 0, klen)) {
    pt.foreign = true;
    return null;
  }
  const h = ks.lookup(req.db, keyBuf, 0, klen);
  if (h === 0) return null;
  if (arrow < 0) {
    if (ks.type(h) !== TYPE_STRING) return null;
    const vo = ks.valueOffset(h);
    return ks.arena.u8(h).slice(vo, vo + ks.valueLength(h));
  }
  if (ks.type(h) !== TYPE_HASH) return null;
  let fields = pt.hashes.get(h);
  if (fields === undefined) {
    fields = new Map();
    const flat = ks.getObject(h).dump();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(latin1(flat[i]!), flat[i + 1]!);
    pt.hashes.set(h, fields);
  }
  const field = Buffer.from(u8.buffer, u8.byteOffset + po + arrow + 2, plen - arrow - 2).toString('latin1');
  return fields.get(field) ?? null;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** A LIMIT argument as a long, clamped where only its sign and size class matter. */
function limitArg(c: ShardContext, i: number): number | null {
  const v = argInt64(c.req, i);
  if (v === null || typeof v === 'number') return v;
  return v > 0n ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
}

function sortGeneric(c: ShardContext, readonly: boolean): void {
  const { ks, req, out } = c;
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby = -1;
  let store = -1;
  const gets: number[] = [];
  for (let j = 1; j < req.argc; j++) {
    const left = req.argc - j - 1;
    if (req.is(j, 'ASC')) desc = false;
    else if (req.is(j, 'DESC')) desc = true;
    else if (req.is(j, 'ALPHA')) alpha = true;
    else if (req.is(j, 'LIMIT') && left >= 2) {
      const s = limitArg(c, j + 1);
      const n = s === null ? null : limitArg(c, j + 2);
      if (s === null || n === null) return out.error(E.NOT_INTEGER);
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && req.is(j, 'STORE') && left >= 1) {
      store = ++j;
    } else if (req.is(j, 'BY') && left >= 1) {
      sortby = ++j;
      // A constant BY pattern means: no sorting and no weight lookups (never reset by a later BY).
      if (req.u8.subarray(req.off[j]!, req.off[j]! + req.len[j]!).indexOf(42) < 0) dontsort = true;
    } else if (req.is(j, 'GET') && left >= 1) {
      gets.push(++j);
    } else return out.error(E.SYNTAX);
  }

  const h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  const type = h === 0 ? TYPE_LIST : ks.type(h);
  if (type !== TYPE_LIST && type !== TYPE_SET && type !== TYPE_ZSET) return out.error(E.WRONGTYPE);
  let elems: Uint8Array[] = h === 0 ? [] : ks.getObject(h).dump();
  if (type === TYPE_ZSET) elems = elems.filter((_, i) => (i & 1) === 0);

  // A set has no order of its own: stored results are sorted so replicas agree.
  if (dontsort && type === TYPE_SET && store >= 0) {
    dontsort = false;
    alpha = true;
    sortby = -1;
  }

  let vectorlen = elems.length;
  let start = Math.min(Math.max(limitStart, 0), vectorlen);
  const count = Math.min(Math.max(limitCount, -1), vectorlen);
  let end = count < 0 ? vectorlen - 1 : start + count - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;

  let vector: Item[];
  if (dontsort && type !== TYPE_SET) {
    // Lists and sorted sets keep their order (reversed by DESC) and LIMIT just picks a range.
    const n = elems.length;
    vector = [];
    if (end >= start) {
      for (let k = start; k <= end; k++) vector.push(item(elems[desc ? n - 1 - k : k]!));
      end -= start;
      start = 0;
    }
    vectorlen = vector.length;
  } else {
    vector = elems.map(item);
  }

  const pt: Patterns = { c, hashes: new Map(), foreign: false };
  let conversionError = false;
  if (!dontsort) {
    for (const it of vector) {
      const byval = sortby >= 0 ? byPattern(pt, sortby, it.obj) : it.obj;
      if (byval === null) continue;
      if (alpha) {
        if (sortby >= 0) it.cmp = byval;
      } else {
        it.score = sortScore(byval);
        if (it.score !== it.score) conversionError = true;
      }
    }
    const bypattern = sortby >= 0;
    const binary = store >= 0;
    const sign = desc ? -1 : 1;
    vector.sort((a, b) => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : binaryCompare(a.obj, b.obj);
      } else if (bypattern) {
        if (a.cmp === null || b.cmp === null) cmp = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else cmp = binary ? binaryCompare(a.cmp, b.cmp) : collate(a.cmp, b.cmp);
      } else cmp = binary ? binaryCompare(a.obj, b.obj) : collate(a.obj, b.obj);
      return cmp === 0 ? 0 : cmp < 0 ? -sign : sign;
    });
  }

  const outputlen = (gets.length > 0 ? gets.length : 1) * (end - start + 1);
  if (conversionError) return out.error(E.SORT_SCORES);
  const values: (Uint8Array | null)[] = [];
  for (let j = start; j <= end; j++) {
    const obj = vector[j]!.obj;
    if (gets.length === 0) values.push(obj);
    for (const g of gets) values.push(byPattern(pt, g, obj));
  }
  if (pt.foreign) return out.error(E.SORT_FOREIGN_KEY);
  if (store < 0) {
    out.arrayHeader(outputlen);
    for (const v of values) {
      if (v === null) out.nullBulk();
      else out.bulk(v, 0, v.length);
    }
    return;
  }
  const items = values.map((v) => (v === null ? new Uint8Array(0) : v.slice()));
  // Built before the destination is touched: the sorted key may be the destination itself.
  const list = outputlen > 0 ? restoreObject(TYPE_LIST, items) : null;
  const dh = ks.lookup(req.db, req.u8, req.off[store]!, req.len[store]!);
  if (list !== null) {
    const nh = ks.writeObject(req.db, dh, req.u8, req.off[store]!, req.len[store]!, list, 0);
    c.modified(nh, NOTIFY_LIST, 'sortstore');
  } else if (dh !== 0) {
    c.modified(dh, NOTIFY_GENERIC, 'del');
    ks.removeFound(dh);
  }
  out.integer(outputlen);
}

function item(obj: Uint8Array): Item {
  return { obj, score: 0, cmp: null };
}

/**
 * Key positions of SORT (Redis sortGetKeys): the sorted key and the last STORE destination,
 * skipping LIMIT's two arguments and BY's and GET's one.
 */
export function sortKeys(argc: number, arg: (i: number) => string): number[] {
  const keys = [1];
  let storeAt = -1;
  for (let i = 2; i < argc; i++) {
    const a = arg(i).toLowerCase();
    if (a === 'limit') i += 2;
    else if (a === 'get' || a === 'by') i += 1;
    else if (a === 'store' && i + 1 < argc) storeAt = i + 1;
  }
  if (storeAt >= 0) keys.push(storeAt);
  return keys;
}

export const sortCommands: CommandDef[] = [
  { name: 'sort', route: 'multi', shard: (c) => sortGeneric(c, false), keys: sortKeys },
  { name: 'sort_ro', route: 'key', shard: (c) => sortGeneric(c, true) },
];
