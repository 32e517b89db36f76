/**
 * Set commands on one key (Redis 7.0 t_set.c): same checks in the same order, same replies in
 * RESP2 and RESP3. The commands combining several keys are in set-ops.ts; the container and its
 * intset/hashtable encodings in store/types/set.ts.
 */
import { E, E_HS } from '../protocol/redis-errors.ts';
import { createSet, memberOf, SetObject, type Member, type MemberRef } from '../store/types/set.ts';
import { globMatch } from '../util/glob.ts';
import { randomCount, sampleIndexes, scanCursor, scanHeader, scanOptions, tooLarge } from './coll-util.ts';
import { NOTIFY_GENERIC, NOTIFY_SET } from './notify-flags.ts';
import { lookupSet, replyMember, setOpCommands } from './set-ops.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

const mref: MemberRef = { buf: new Uint8Array(0), off: 0, len: 0 };

const argMember = (c: ShardContext, i: number): Member => memberOf(c.req.u8, c.req.off[i]!, c.req.len[i]!);

function sadd(c: ShardContext): void {
  const { ks, req } = c;
  let h = lookupSet(c, 0, false);
  if (h < 0) return;
  let set: SetObject;
  if (h === 0) {
    set = createSet(argMember(c, 1));
    h = ks.writeObject(req.db, 0, req.u8, req.off[0]!, req.len[0]!, set, 0);
  } else set = ks.getObject<SetObject>(h);
  let added = 0;
  for (let i = 1; i < req.argc; i++) if (set.addBytes(req.u8, req.off[i]!, req.len[i]!)) added++;
  if (added > 0) c.modified(h, NOTIFY_SET, 'sadd');
  c.out.integer(added);
}

function srem(c: ShardContext): void {
  const h = lookupSet(c, 0, false);
  if (h < 0) return;
  if (h === 0) return c.out.integer(0);
  const { ks, req } = c;
  const set = ks.getObject<SetObject>(h);
  let deleted = 0;
  let removed = false;
  for (let i = 1; i < req.argc; i++) {
    if (set.removeBytes(req.u8, req.off[i]!, req.len[i]!)) {
      deleted++;
      if (set.size === 0) {
        removed = true;
        break;
      }
    }
  }
  if (deleted > 0) {
    c.modified(h, NOTIFY_SET, 'srem');
    if (removed) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      ks.removeFound(h);
    }
  }
  c.out.integer(deleted);
}

function sismember(c: ShardContext): void {
  const h = lookupSet(c, 0);
  if (h < 0) return;
  const { req } = c;
  c.out.integer(h !== 0 && c.ks.getObject<SetObject>(h).hasBytes(req.u8, req.off[1]!, req.len[1]!) ? 1 : 0);
}

function smismember(c: ShardContext): void {
  const h = lookupSet(c, 0);
  if (h < 0) return;
  const set = h === 0 ? null : c.ks.getObject<SetObject>(h);
  c.out.arrayHeader(c.req.argc - 1);
  const { req } = c;
  for (let i = 1; i < req.argc; i++)
    c.out.integer(set !== null && set.hasBytes(req.u8, req.off[i]!, req.len[i]!) ? 1 : 0);
}

function scard(c: ShardContext): void {
  const h = lookupSet(c, 0);
  if (h < 0) return;
  c.out.integer(h === 0 ? 0 : c.ks.getObject<SetObject>(h).size);
}

/** SPOP key [count]: WAL and replicas get SREM of what was popped (DEL when all of it). */
function spop(c: ShardContext): void {
  const { ks, req, out } = c;
  if (req.argc > 2) return out.error(E.SYNTAX);
  if (req.argc === 2) return spopCount(c);
  const h = lookupSet(c, 0, false);
  if (h < 0) return;
  if (h === 0) return out.nullBulk();
  const set = ks.getObject<SetObject>(h);
  const i = set.randomIndex();
  const text = set.textAt(i);
  replyMember(c, set, i);
  set.removeAt(i);
  c.modified(h, NOTIFY_SET, 'spop');
  c.propagate(['SREM', req.copy(0), Buffer.from(text, 'latin1')]);
  if (set.size === 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    ks.removeFound(h);
  }
}

function spopCount(c: ShardContext): void {
  const { ks, req, out } = c;
  const n = argInt64(req, 1);
  if (n === null || n < 0) return out.error(E_HS.MUST_BE_POSITIVE);
  const h = lookupSet(c, 0, false);
  if (h < 0) return;
  if (h === 0 || n === 0) return out.setHeader(0);
  const set = ks.getObject<SetObject>(h);
  const size = set.size;
  const count = Number(n);
  if (count >= size) {
    out.setHeader(size);
    for (let i = 0; i < size; i++) replyMember(c, set, i);
    c.modified(h, NOTIFY_SET, 'spop');
    c.modified(h, NOTIFY_GENERIC, 'del');
    c.propagate(['DEL', req.copy(0)]);
    ks.removeFound(h);
    return;
  }
  const picks = sampleIndexes(size, count);
  // Redis returns what is left of the original set when most of it goes (its CASE 3), which
  // for an intset is ascending order.
  if (set.isIntset() && (size - count) * 5 <= count) picks.sort();
  const popped: Member[] = [];
  const srem: (string | Uint8Array)[] = ['SREM', req.copy(0)];
  out.setHeader(count);
  for (let k = 0; k < count; k++) {
    const i = picks[k]!;
    replyMember(c, set, i);
    popped.push(set.at(i));
    srem.push(Buffer.from(set.textAt(i), 'latin1'));
  }
  for (const m of popped) set.remove(m);
  c.modified(h, NOTIFY_SET, 'spop');
  c.propagate(srem);
}

/** SRANDMEMBER key [count] (srandmemberCommand / srandmemberWithCountCommand). */
function srandmember(c: ShardContext): void {
  const { ks, req, out } = c;
  if (req.argc > 2) return out.error(E.SYNTAX);
  if (req.argc === 1) {
    const h = lookupSet(c, 0);
    if (h < 0) return;
    if (h === 0) return out.nullBulk();
    const set = ks.getObject<SetObject>(h);
    return replyMember(c, set, set.randomIndex());
  }
  const raw = randomCount(c, 1);
  if (raw === null) return;
  const l = Number(raw);
  const h = lookupSet(c, 0);
  if (h < 0) return;
  if (h === 0 || l === 0) return out.arrayHeader(0);
  const set = ks.getObject<SetObject>(h);
  const size = set.size;
  if (l < 0 || l === 1) {
    // CASE 1: picks with repetition.
    const count = Math.abs(l);
    if (tooLarge(c, count, set.avgMemberBytes())) return;
    out.arrayHeader(count);
    for (let k = 0; k < count; k++) replyMember(c, set, set.randomIndex());
    return;
  }
  if (l >= size) {
    // CASE 2: the whole set in its iteration order.
    out.arrayHeader(size);
    for (let i = 0; i < size; i++) replyMember(c, set, i);
    return;
  }
  const picks = sampleIndexes(size, l);
  out.arrayHeader(l);
  for (let k = 0; k < l; k++) replyMember(c, set, picks[k]!);
}

/** SSCAN key cursor [MATCH pattern] [COUNT count]: as HSCAN (an intset is returned whole). */
function sscan(c: ShardContext): void {
  const { ks, req, out } = c;
  const cursor = scanCursor(req.u8, req.off[1]!, req.len[1]!);
  if (cursor !== cursor) return out.error(E.INVALID_CURSOR);
  const h = lookupSet(c, 0);
  if (h < 0) return;
  if (h === 0) return scanHeader(out, 0, 0);
  const a = scanOptions(c, 2, cursor);
  if (a === null) return;
  const set = ks.getObject<SetObject>(h);
  let from = 0;
  let to = set.size;
  let next = 0;
  if (!set.isIntset()) {
    to = cursor === 0 || cursor > set.size ? set.size : cursor;
    from = Math.max(0, to - a.count);
    next = from;
  }
  const picked: number[] = [];
  for (let i = to - 1; i >= from; i--) {
    if (a.po >= 0) {
      if (set.isIntset()) {
        const t = Buffer.from(set.textAt(i), 'latin1');
        if (!globMatch(req.u8, a.po, a.pl, t, 0, t.length, false)) continue;
      } else {
        set.refAt(i, mref);
        if (!globMatch(req.u8, a.po, a.pl, mref.buf, mref.off, mref.len, false)) continue;
      }
    }
    picked.push(i);
  }
  if (set.isIntset()) picked.reverse();
  scanHeader(out, next, picked.length);
  for (const i of picked) replyMember(c, set, i);
}

export const setCommands: CommandDef[] = [
  { name: 'sadd', route: 'key', shard: sadd },
  { name: 'srem', route: 'key', shard: srem },
  { name: 'sismember', route: 'key', shard: sismember },
  { name: 'smismember', route: 'key', shard: smismember },
  { name: 'scard', route: 'key', shard: scard },
  { name: 'spop', route: 'key', shard: spop },
  { name: 'srandmember', route: 'key', shard: srandmember },
  { name: 'sscan', route: 'key', shard: sscan },
  ...setOpCommands,
];
