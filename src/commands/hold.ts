import { ENCODING, KEY_OFF, TYPE_STRING } from '../store/record.ts';
import { restoreObject } from '../store/object.ts';
import type { HoldOp } from '../router/control.ts';
import { argInt } from './shard-util.ts';
import type { ShardContext } from './types.ts';
import { checkWatches, touchKey, watchState } from './watch.ts';
import { blockState, keyWritten } from './blocked-keys.ts';

/**
 * Shard side of sessions (DESIGN principle 1's two-phase hold, generalised). An OP_HOLD frame
 * parks the shard at its point of the global order; while parked it executes only what the
 * session posts (frames, writes) until the session ends, so a MULTI/EXEC or a cross-shard
 * command is atomic to every other client.
 */

/** OP_HOLD: args [connId]; replies whether that connection's WATCHed keys here changed. */
export function hold(c: ShardContext): void {
  const conn = argInt(c.req, 0);
  c.out.integer(conn > 0 && checkWatches(c.ks, conn) ? 1 : 0);
}

/**
 * OP_DUMP: for each key argument, nil or [type, expireAt, encoding, value]: for strings the
 * encoding byte and the bytes, for other types OBJECT ENCODING and an array with dump().
 */
export function dumpKeys(c: ShardContext): void {
  const { req, ks, out } = c;
  out.arrayHeader(req.argc);
  for (let i = 0; i < req.argc; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h === 0) {
      out.nullArray();
      continue;
    }
    out.arrayHeader(4);
    out.integer(ks.type(h));
    out.bulkString(String(ks.getExpire(h)));
    if (ks.type(h) === TYPE_STRING) {
      out.integer(ks.arena.u8(h)[ks.arena.base(h) + ENCODING]!);
      out.bulk(ks.arena.u8(h), ks.valueOffset(h), ks.valueLength(h));
    } else {
      out.bulkString(ks.getObject(h).encoding());
      const items = ks.getObject(h).dump();
      out.arrayHeader(items.length);
      for (const it of items) out.bulk(it, 0, it.length);
    }
  }
}

/** Apply writes decided on main. Watchers and blocked clients of the keys are told, as for any write. */
export function applyHoldOps(c: ShardContext, ops: HoldOp[]): void {
  const ks = c.ks;
  for (const op of ops) {
    const h = ks.lookup(op.db, op.key, 0, op.key.length);
    if (op.op === 'del' || (op.expireAt !== 0 && op.expireAt <= ks.now)) {
      if (h !== 0) {
        touch(op.db, op.key, -1);
        ks.removeFound(h);
      }
      continue;
    }
    let nh: number;
    if (op.type === TYPE_STRING) {
      const v = op.value as Uint8Array;
      nh = ks.writeString(op.db, h, op.key, 0, op.key.length, v.length, op.expireAt);
      ks.arena.u8(nh).set(v, ks.valueOffset(nh));
      ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = op.encoding;
    } else {
      const obj = restoreObject(op.type, op.value as Uint8Array[], op.objEncoding);
      nh = ks.writeObject(op.db, h, op.key, 0, op.key.length, obj, op.expireAt);
    }
    void KEY_OFF;
    touch(op.db, op.key, op.type);
  }
}

/** `type` is what the key holds now (-1: deleted). */
function touch(db: number, key: Uint8Array, type: number): void {
  if (watchState.active) touchKey(db, key, 0, key.length);
  if (blockState.active && type >= 0) keyWritten(db, key, 0, key.length, type);
}
