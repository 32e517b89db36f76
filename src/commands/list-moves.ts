/**
 * List commands that touch several keys — LMOVE, RPOPLPUSH, LMPOP — and the shard side of the
 * blocking ones: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP run here in their non-blocking form,
 * exactly what Redis does for them inside MULTI (pop if something is there, else the null
 * reply); the main thread (server/blocking.ts) parks the client on that null reply. All are
 * route 'multi': written as if every key were local (the cross-shard executor runs the same
 * handler on a scratch keyspace). As in Redis, the blocking forms are recorded as their plain
 * equivalents (BLPOP → LPOP key, BLMPOP/LMPOP → LPOP key count, BLMOVE → LMOVE…).
 */
import { E, E_HS, E_LIST } from '../protocol/redis-errors.ts';
import { scanInt64 } from '../protocol/numbers.ts';
import { HEAD, ListValue, TAIL } from '../store/types/list.ts';
import { blockTimeoutMs } from './block-timeout.ts';
import { cur, lookupList, popped, replyEnd } from './lists.ts';
import { NOTIFY_GENERIC, NOTIFY_LIST } from './notify-flags.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

/** LEFT/RIGHT at argument i as HEAD/TAIL; -1 after the syntax error reply. */
function position(c: ShardContext, i: number): number {
  if (c.req.is(i, 'LEFT')) return HEAD;
  if (c.req.is(i, 'RIGHT')) return TAIL;
  c.out.error(E.SYNTAX);
  return -1;
}

/** Validates the timeout at argument i; false after the error reply. */
function timeoutOk(c: ShardContext, i: number): boolean {
  const t = blockTimeoutMs(c.req.u8, c.req.off[i]!, c.req.len[i]!);
  if (typeof t === 'string') {
    c.out.error(t);
    return false;
  }
  return true;
}

/** Holds the moved element: the source node may be the destination's and change under a push. */
let moving = new Uint8Array(256);

/**
 * Redis lmoveGenericCommand over arguments 0 (source) and 1 (destination). Events in Redis's
 * order: the push on the destination, then the pop on the source (and its deletion if emptied).
 */
function lmoveGeneric(c: ShardContext, from: number, to: number): void {
  const { ks, req, out } = c;
  const sh = lookupList(c, 0, false);
  if (sh < 0) return;
  if (sh === 0) return out.nullBulk();
  let dh = lookupList(c, 1, false);
  if (dh < 0) return;
  const src = ks.getObject<ListValue>(sh);
  src.peek(from, cur);
  const n = cur.n;
  if (n > moving.length) moving = new Uint8Array(Math.max(n, moving.length * 2));
  moving.set(cur.node!.buf.subarray(cur.d, cur.d + n));
  src.trim(from, 1);
  if (dh === 0) dh = ks.writeObject(req.db, 0, req.u8, req.off[1]!, req.len[1]!, new ListValue(), 0);
  ks.getObject<ListValue>(dh).push(to, moving, 0, n);
  c.modified(dh, NOTIFY_LIST, to === HEAD ? 'lpush' : 'rpush');
  out.bulk(moving, 0, n);
  if (moving.length > 1 << 20) moving = new Uint8Array(256);
  c.modified(sh, NOTIFY_LIST, from === HEAD ? 'lpop' : 'rpop');
  if (src.size === 0) {
    c.modified(sh, NOTIFY_GENERIC, 'del');
    ks.removeFound(ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!));
  }
}

function lmove(c: ShardContext): void {
  const from = position(c, 2);
  if (from < 0) return;
  const to = position(c, 3);
  if (to < 0) return;
  lmoveGeneric(c, from, to);
}

/** BLMOVE / BRPOPLPUSH without blocking: a null bulk when the source is missing. */
function blmove(c: ShardContext, brpoplpush: boolean): void {
  const { req } = c;
  let from = TAIL;
  let to = HEAD;
  if (!brpoplpush) {
    if ((from = position(c, 2)) < 0 || (to = position(c, 3)) < 0) return;
  }
  if (!timeoutOk(c, brpoplpush ? 2 : 4)) return;
  const h = lookupList(c, 0, false);
  if (h < 0) return;
  if (h === 0) return c.out.nullBulk();
  const dirty = c.ks.dirty;
  lmoveGeneric(c, from, to);
  if (c.ks.dirty === dirty) return;
  if (brpoplpush) c.propagate(['RPOPLPUSH', req.copy(0), req.copy(1)]);
  else c.propagate(['LMOVE', req.copy(0), req.copy(1), req.str(2), req.str(3)]);
}

/**
 * Pops up to `count` elements (or one bare element when `count` is -1, BLPOP's shape) from the
 * first non-empty list among arguments [first, first+numkeys); false when all are empty or
 * missing, -1 after WRONGTYPE. Replies [key, element] or [key, [elements…]].
 */
function popFirst(c: ShardContext, first: number, numkeys: number, where: number, count: number): number {
  const { ks, req, out } = c;
  for (let i = first; i < first + numkeys; i++) {
    const h = lookupList(c, i, false);
    if (h < 0) return -1;
    if (h === 0) continue;
    const l = ks.getObject<ListValue>(h);
    const n = count < 0 ? 1 : Math.min(count, l.size);
    out.arrayHeader(2);
    out.bulk(req.u8, req.off[i]!, req.len[i]!);
    if (count >= 0) out.arrayHeader(n);
    replyEnd(out, l, where, n);
    l.trim(where, n);
    const cmd = where === HEAD ? 'LPOP' : 'RPOP';
    c.propagate(count < 0 ? [cmd, req.copy(i)] : [cmd, req.copy(i), String(n)]);
    popped(c, h, l, where);
    return 1;
  }
  return 0;
}

/** BLPOP/BRPOP key… timeout without blocking: a null array when every list is empty. */
function bpop(c: ShardContext, where: number): void {
  const argc = c.req.argc;
  if (!timeoutOk(c, argc - 1)) return;
  if (popFirst(c, 0, argc - 1, where, -1) === 0) c.out.nullArray();
}

/**
 * LMPOP numkeys key… LEFT|RIGHT [COUNT n], and BLMPOP timeout numkeys… (`block`): the
 * arguments are checked before the timeout, as in Redis's lmpopGenericCommand.
 */
function mpop(c: ShardContext, block: boolean): void {
  const { req, out } = c;
  const ni = block ? 1 : 0;
  const nk = argInt64(req, ni);
  if (nk === null || nk < 1) return out.error(E_HS.NUMKEYS);
  const wi = ni + 1 + Number(nk);
  if (wi >= req.argc) return out.error(E.SYNTAX);
  const where = position(c, wi);
  if (where < 0) return;
  let count = -1;
  for (let j = wi + 1; j < req.argc; j++) {
    if (count === -1 && j + 1 < req.argc && req.is(j, 'COUNT')) {
      const v = argInt64(req, ++j);
      if (v === null || v < 1) return out.error(E_LIST.COUNT_POSITIVE);
      count = Number(v);
    } else return out.error(E.SYNTAX);
  }
  if (block && !timeoutOk(c, 0)) return;
  if (popFirst(c, ni + 1, Number(nk), where, count === -1 ? 1 : count) === 0) out.nullArray();
}

/** Key positions of LMPOP (numkeys at argv 1) and BLMPOP (argv 2) for the router. */
function mpopKeys(ni: number) {
  return (argc: number, arg: (i: number) => string): number[] | string => {
    const s = Buffer.from(arg(ni), 'latin1');
    const n = scanInt64(s, 0, s.length);
    if (n !== n || n < 1) return E_HS.NUMKEYS;
    if (ni + n + 1 >= argc) return E.SYNTAX;
    const keys: number[] = [];
    for (let i = 1; i <= n; i++) keys.push(ni + i);
    return keys;
  };
}

export const listMoveCommands: CommandDef[] = [
  { name: 'lmove', route: 'multi', shard: lmove },
  { name: 'rpoplpush', route: 'multi', shard: (c) => lmoveGeneric(c, TAIL, HEAD) },
  { name: 'lmpop', route: 'multi', shard: (c) => mpop(c, false), keys: mpopKeys(1) },
  { name: 'blpop', route: 'multi', shard: (c) => bpop(c, HEAD) },
  { name: 'brpop', route: 'multi', shard: (c) => bpop(c, TAIL) },
  { name: 'blmove', route: 'multi', shard: (c) => blmove(c, false) },
  { name: 'brpoplpush', route: 'multi', shard: (c) => blmove(c, true) },
  { name: 'blmpop', route: 'multi', shard: (c) => mpop(c, true), keys: mpopKeys(2) },
];
