/**
 * Shared control words between the main thread and the shards (one Int32Array over a SAB):
 * the doorbell every shard rings after publishing replies (main sleeps on it with waitAsync),
 * and per shard the hold-release word of the cross-shard two-phase protocol.
 */
export const BELL = 0;
export const holdWord = (shard: number): number => 16 + shard;
export const controlWords = (shards: number): number => 16 + shards;

/** Internal opcodes carried in frames above the command table's indexes. */
export const OP_TXREAD = 0xff01;

/** Messages on a shard's control port. */
export type ControlMessage = { type: 'config'; name: string; value: unknown } | { type: 'stop' };

/** Phase-2 writes of a cross-shard hold, applied by the parked shard before it resumes. */
export type HoldOp =
  | { op: 'del'; db: number; key: Uint8Array }
  | { op: 'put'; db: number; key: Uint8Array; value: Uint8Array; expireAt: number; encoding: number };
export interface HoldRelease {
  txn: number;
  ops: HoldOp[];
}
