import { ENCODING, TYPE_STRING } from '../store/record.ts';
import type { Keyspace } from '../store/keyspace.ts';
import type { HoldOp } from '../router/control.ts';
import type { ShardContext } from './types.ts';

/**
 * Shard side of the cross-shard two-phase hold (DESIGN principle 1).
 *
 * Phase 1 (TXREAD frame, args: txn, then mode/key pairs): report each key — mode "e" answers
 * whether it exists, mode "d" dumps it as [type, expireAt, encoding, value] or nil. The worker
 * then parks until the coordinator releases this txn with the phase-2 writes, so no other
 * command can run on this shard between the read and the write.
 */
export function txRead(c: ShardContext): void {
  const { req, ks, out } = c;
  const n = (req.argc - 1) >> 1;
  out.arrayHeader(n);
  for (let k = 0; k < n; k++) {
    const mi = 1 + 2 * k;
    const ki = mi + 1;
    const h = ks.lookup(req.db, req.u8, req.off[ki]!, req.len[ki]!);
    if (req.is(mi, 'E')) {
      out.integer(h === 0 ? 0 : 1);
    } else if (h === 0) {
      out.nullArray();
    } else if (ks.type(h) !== TYPE_STRING) {
      out.error('WRONGTYPE Operation against a key holding the wrong kind of value');
    } else {
      out.arrayHeader(4);
      out.integer(ks.type(h));
      out.bulkString(String(ks.getExpire(h)));
      out.integer(ks.arena.u8(h)[ks.arena.base(h) + ENCODING]!);
      out.bulk(ks.arena.u8(h), ks.valueOffset(h), ks.valueLength(h));
    }
  }
}

/** Phase 2: apply the coordinator's writes. */
export function applyHoldOps(ks: Keyspace, ops: HoldOp[]): void {
  for (const op of ops) {
    const h = ks.lookup(op.db, op.key, 0, op.key.length);
    if (op.op === 'del') {
      if (h !== 0) ks.removeFound(h);
      continue;
    }
    if (op.expireAt !== 0 && op.expireAt <= ks.now) {
      if (h !== 0) ks.removeFound(h);
      continue;
    }
    const nh = ks.writeString(op.db, h, op.key, 0, op.key.length, op.value.length, op.expireAt);
    ks.arena.u8(nh).set(op.value, ks.valueOffset(nh));
    ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = op.encoding;
  }
}
