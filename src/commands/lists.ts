/**
 * List commands on one key (Redis 7.0 t_list.c): same checks in the same order, same replies
 * in RESP2 and RESP3, same keyspace events. The quicklist itself is store/types/list.ts; the
 * commands that move elements between keys and the blocking ones are in list-moves.ts.
 */
import { E, E_HS, E_LIST, wrongArity } from '../protocol/redis-errors.ts';
import type { RespWriter } from '../protocol/writer.ts';
import { TYPE_LIST } from '../store/record.ts';
import { HEAD, ListCursor, ListValue, TAIL } from '../store/types/list.ts';
import { NOTIFY_GENERIC, NOTIFY_LIST } from './notify-flags.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

/** Scratch cursor shared by the list commands (a shard runs one command at a time). */
export const cur = new ListCursor();

/**
 * The list at argument i: its handle, 0 when absent, -1 after replying WRONGTYPE. Records the
 * access like Redis's lookupKey; `read` lookups count keyspace hits/misses (lookupKeyRead).
 */
export function lookupList(c: ShardContext, i: number, read: boolean): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (h !== 0) ks.touch(h);
  if (read) {
    if (h !== 0) ks.hits++;
    else keyMiss(c, i);
  }
  if (h !== 0 && ks.type(h) !== TYPE_LIST) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  return h;
}

/** Argument i as a long (getLongFromObjectOrReply), as a double; NaN after the error reply. */
function argLong(c: ShardContext, i: number): number {
  const v = argInt64(c.req, i);
  if (v === null) {
    c.out.error(E.NOT_INTEGER);
    return NaN;
  }
  return Number(v);
}

/** Replies `n` elements from one end: head→tail from HEAD, tail→head from TAIL. */
export function replyEnd(out: RespWriter, l: ListValue, where: number, n: number): void {
  l.peek(where, cur);
  for (let k = 0; k < n; k++) {
    out.bulk(cur.node!.buf, cur.d, cur.n);
    if (where === HEAD) l.next(cur);
    else l.prev(cur);
  }
}

/**
 * Redis listElementsRemoved: the pop event, then the key's deletion if the list emptied.
 * `h` must be the record found by the last lookup() (removeFound follows it).
 */
export function popped(c: ShardContext, h: number, l: ListValue, where: number): void {
  c.modified(h, NOTIFY_LIST, where === HEAD ? 'lpop' : 'rpop');
  if (l.size === 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    c.ks.removeFound(h);
  }
}

/** LPUSH/RPUSH, and LPUSHX/RPUSHX (`xx`: only onto an existing list). */
function push(c: ShardContext, where: number, xx: boolean): void {
  const { ks, req, out } = c;
  let h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) {
    if (xx) return out.integer(0);
    h = ks.writeObject(req.db, 0, req.u8, req.off[0]!, req.len[0]!, new ListValue(), 0);
  }
  const l = ks.getObject<ListValue>(h);
  const { u8, off, len } = req;
  for (let i = 1; i < req.argc; i++) l.push(where, u8, off[i]!, len[i]!);
  out.integer(l.size);
  c.modified(h, NOTIFY_LIST, where === HEAD ? 'lpush' : 'rpush');
}

/** LPOP/RPOP key [count]: a bulk without count, an array with it (null array on a missing key). */
function pop(c: ShardContext, where: number): void {
  const { ks, req, out } = c;
  if (req.argc > 2) return out.error(wrongArity(where === HEAD ? 'lpop' : 'rpop'));
  const hasCount = req.argc === 2;
  let count = 0;
  if (hasCount) {
    // getPositiveLongFromObjectOrReply: one message for "not an integer" and "negative".
    const v = argInt64(req, 1);
    if (v === null || v < 0) return out.error(E_HS.MUST_BE_POSITIVE);
    count = Number(v);
  }
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return hasCount ? out.nullArray() : out.nullBulk();
  if (hasCount && count === 0) return out.arrayHeader(0);
  const l = ks.getObject<ListValue>(h);
  if (!hasCount) {
    l.peek(where, cur);
    out.bulk(cur.node!.buf, cur.d, cur.n);
    l.trim(where, 1);
  } else {
    const n = Math.min(count, l.size);
    out.arrayHeader(n);
    replyEnd(out, l, where, n);
    l.trim(where, n);
  }
  popped(c, h, l, where);
}

function llen(c: ShardContext): void {
  const h = lookupList(c, 0, true);
  if (h < 0) return;
  c.out.integer(h === 0 ? 0 : c.ks.getObject<ListValue>(h).size);
}

function lrange(c: ShardContext): void {
  let start = argLong(c, 1);
  if (start !== start) return;
  let end = argLong(c, 2);
  if (end !== end) return;
  const h = lookupList(c, 0, true);
  if (h < 0) return;
  const out = c.out;
  if (h === 0) return out.arrayHeader(0);
  const l = c.ks.getObject<ListValue>(h);
  const size = l.size;
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  if (start > end || start >= size) return out.arrayHeader(0);
  if (end >= size) end = size - 1;
  const n = end - start + 1;
  out.arrayHeader(n);
  l.seek(start, cur);
  for (let k = 0; k < n; k++) {
    out.bulk(cur.node!.buf, cur.d, cur.n);
    l.next(cur);
  }
}

function lindex(c: ShardContext): void {
  const h = lookupList(c, 0, true);
  if (h < 0) return;
  if (h === 0) return c.out.nullBulk();
  let index = argLong(c, 1);
  if (index !== index) return;
  const l = c.ks.getObject<ListValue>(h);
  if (index < 0) index += l.size;
  if (index < 0 || index >= l.size) return c.out.nullBulk();
  l.seek(index, cur);
  c.out.bulk(cur.node!.buf, cur.d, cur.n);
}

function lset(c: ShardContext): void {
  const { ks, req, out } = c;
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return out.error(E.NO_SUCH_KEY);
  let index = argLong(c, 1);
  if (index !== index) return;
  const l = ks.getObject<ListValue>(h);
  if (index < 0) index += l.size;
  if (index < 0 || index >= l.size) return out.error(E_LIST.INDEX_OUT_OF_RANGE);
  l.seek(index, cur);
  l.replaceAt(cur, req.u8, req.off[2]!, req.len[2]!);
  out.ok();
  c.modified(h, NOTIFY_LIST, 'lset');
}

function linsert(c: ShardContext): void {
  const { ks, req, out } = c;
  let after: boolean;
  if (req.is(1, 'AFTER')) after = true;
  else if (req.is(1, 'BEFORE')) after = false;
  else return out.error(E.SYNTAX);
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const l = ks.getObject<ListValue>(h);
  const { u8, off, len } = req;
  for (let ok = l.peek(HEAD, cur); ok; ok = l.next(cur)) {
    if (!l.equals(cur, u8, off[2]!, len[2]!)) continue;
    l.insertAt(cur, after, u8, off[3]!, len[3]!);
    c.modified(h, NOTIFY_LIST, 'linsert');
    return out.integer(l.size);
  }
  out.integer(-1);
}

function lrem(c: ShardContext): void {
  const { ks, req, out } = c;
  const count = argLong(c, 1);
  if (count !== count) return;
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return out.integer(0);
  const l = ks.getObject<ListValue>(h);
  // Negative counts walk from the tail. LONG_MIN stays negative when Redis negates it, so it
  // removes every match from the tail: |count| as a double never equals a removal count.
  const forward = count >= 0;
  const limit = Math.abs(count);
  const { u8 } = req;
  const eo = req.off[2]!;
  const el = req.len[2]!;
  let removed = 0;
  let ok = l.peek(forward ? HEAD : TAIL, cur);
  while (ok) {
    if (l.equals(cur, u8, eo, el)) {
      ok = l.deleteAt(cur, forward);
      removed++;
      if (removed === limit) break;
    } else ok = forward ? l.next(cur) : l.prev(cur);
  }
  if (removed > 0) {
    c.modified(h, NOTIFY_LIST, 'lrem');
    if (l.size === 0) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      ks.removeFound(h);
    }
  }
  out.integer(removed);
}

function ltrim(c: ShardContext): void {
  const { ks, out } = c;
  let start = argLong(c, 1);
  if (start !== start) return;
  let end = argLong(c, 2);
  if (end !== end) return;
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return out.ok();
  const l = ks.getObject<ListValue>(h);
  const size = l.size;
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (start < 0) start = 0;
  let ltrim: number;
  let rtrim: number;
  if (start > end || start >= size) {
    ltrim = size;
    rtrim = 0;
  } else {
    if (end >= size) end = size - 1;
    ltrim = start;
    rtrim = size - end - 1;
  }
  l.trim(HEAD, ltrim);
  l.trim(TAIL, rtrim);
  c.modified(h, NOTIFY_LIST, 'ltrim');
  if (l.size === 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    ks.removeFound(h);
  }
  out.ok();
}

const LONG_MIN = -(1n << 63n);
const positions: number[] = [];

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. */
function lpos(c: ShardContext): void {
  const { ks, req, out } = c;
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  let rankMin = false;
  for (let j = 2; j < req.argc; j++) {
    const more = j + 1 < req.argc;
    if (more && req.is(j, 'RANK')) {
      const v = argInt64(req, ++j);
      if (v === null) return out.error(E.NOT_INTEGER);
      if (v === 0) return out.error(E_LIST.RANK_ZERO);
      // Redis negates LONG_MIN into itself: every match then counts, and COUNT never stops it.
      rankMin = v === LONG_MIN;
      rank = Number(v);
    } else if (more && req.is(j, 'COUNT')) {
      const v = argInt64(req, ++j);
      if (v === null || v < 0) return out.error(E_LIST.COUNT_NEGATIVE);
      count = Number(v);
    } else if (more && req.is(j, 'MAXLEN')) {
      const v = argInt64(req, ++j);
      if (v === null || v < 0) return out.error(E_LIST.MAXLEN_NEGATIVE);
      maxlen = Number(v);
    } else return out.error(E.SYNTAX);
  }
  const forward = rank > 0;
  if (!forward) rank = rankMin ? 1 : -rank;
  const limit = rankMin ? 0 : count;
  const h = lookupList(c, 0, true);
  if (h < 0) return;
  if (h === 0) return count !== -1 ? out.arrayHeader(0) : out.nullBulk();
  const l = ks.getObject<ListValue>(h);
  const size = l.size;
  const { u8 } = req;
  const eo = req.off[1]!;
  const el = req.len[1]!;
  positions.length = 0;
  let index = 0;
  let matches = 0;
  let found = -1;
  for (let ok = l.peek(forward ? HEAD : TAIL, cur); ok && (maxlen === 0 || index < maxlen); index++) {
    if (l.equals(cur, u8, eo, el)) {
      matches++;
      if (matches >= rank) {
        const at = forward ? index : size - index - 1;
        if (count === -1) {
          found = at;
          break;
        }
        positions.push(at);
        if (limit !== 0 && matches - rank + 1 >= limit) break;
      }
    }
    ok = forward ? l.next(cur) : l.prev(cur);
  }
  if (count === -1) return found === -1 ? out.nullBulk() : out.integer(found);
  out.arrayHeader(positions.length);
  for (const p of positions) out.integer(p);
}

export const listCommands: CommandDef[] = [
  { name: 'lpush', route: 'key', shard: (c) => push(c, HEAD, false) },
  { name: 'rpush', route: 'key', shard: (c) => push(c, TAIL, false) },
  { name: 'lpushx', route: 'key', shard: (c) => push(c, HEAD, true) },
  { name: 'rpushx', route: 'key', shard: (c) => push(c, TAIL, true) },
  { name: 'lpop', route: 'key', shard: (c) => pop(c, HEAD) },
  { name: 'rpop', route: 'key', shard: (c) => pop(c, TAIL) },
  { name: 'llen', route: 'key', shard: llen },
  { name: 'lrange', route: 'key', shard: lrange },
  { name: 'lindex', route: 'key', shard: lindex },
  { name: 'lset', route: 'key', shard: lset },
  { name: 'linsert', route: 'key', shard: linsert },
  { name: 'lrem', route: 'key', shard: lrem },
  { name: 'ltrim', route: 'key', shard: ltrim },
  { name: 'lpos', route: 'key', shard: lpos },
];
