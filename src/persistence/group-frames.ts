/**
 * Multi-shard writes (MSET/DEL/… split across shards) replay all-or-nothing: right before
 * each shard's part, main enqueues a header-only mark frame with this opcode, the group id in
 * the connection-id word and the participant shards as arguments. The shard logs its part
 * inside a GROUP record (shard-persist.ts); recovery replays a group only if every
 * participant logged it. Group ids increase in ring order, so each shard sees its groups in
 * increasing order (the snapshot watermark relies on it).
 */
export const OP_WAL_GROUP = 0xff40;

/** Bytes a mark frame for `participants` shards takes in a ring (header + args ≤ 3 digits). */
export function markFrameBytes(participants: number): number {
  return 16 + participants * 8;
}

const digits: Buffer[] = [];
/** The participant list as frame arguments (cached small buffers). */
export function participantArgs(shards: readonly number[]): Buffer[] {
  return shards.map((s) => (digits[s] ??= Buffer.from(String(s))));
}
