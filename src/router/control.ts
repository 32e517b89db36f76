/**
 * Shared control words between the main thread and the shards (one Int32Array over a SAB):
 * the doorbell every shard rings after publishing replies (main sleeps on it with waitAsync),
 * and per shard the session word: bumped after each message posted to a parked shard.
 */
import type { ShutdownSave } from '../persistence/shutdown-save.ts';

export const BELL = 0;
/**
 * Bumped by a shard after it posted keyspace events on its events port, so the main thread
 * polls the ports only when there is something (zero cost while notifications are off).
 */
export const EVENTS = 1;
/**
 * Bumped by main after posting on a shard's control port: the shard applies control messages
 * before the next frame it executes, so a command sent after CONFIG SET's reply sees the change.
 */
export const CONTROL = 2;
export const holdWord = (shard: number): number => 16 + shard;
export const controlWords = (shards: number): number => 16 + shards;

/** Internal opcodes carried in frames above the command table's indexes. */
export const OP_BASE_INTERNAL = 0xff00;
/** Enter a session (FLAG_HOLD): args [connId]; replies 1 when that connection's WATCHed keys changed. */
export const OP_HOLD = 0xff01;
/** Dump keys (db of the frame) for the cross-shard executor: array of dumps (see commands/hold.ts). */
export const OP_DUMP = 0xff02;
/** WATCH: args [connId, key…] (db of the frame). */
export const OP_WATCH = 0xff03;
/** UNWATCH: args [connId]; forget that connection's watches in this shard. */
export const OP_UNWATCH = 0xff04;
/** A client blocked on these keys (db of the frame): report them once they can serve it. */
export const OP_BLOCK = 0xff05;
/** No client waits on these keys (db of the frame) any more: forget their registration. */
export const OP_UNBLOCK = 0xff06;
/** Sequence number of the reply frame (connection 0) that carries keys ready for blocked clients. */
export const READY_SEQ = -1;

/** Messages on a shard's control port. */
export type ControlMessage =
  | { type: 'config'; name: string; value: unknown }
  /** `save`: SHUTDOWN's option (absent: NOSAVE); `deadline`: Date.now() ms a shutdown snapshot must end by. */
  | { type: 'stop'; save?: ShutdownSave; deadline?: number };

/** A write decided on main (cross-shard executor) and applied by a held shard. */
export type HoldOp =
  | { op: 'del'; db: number; key: Uint8Array }
  | {
      op: 'put';
      db: number;
      key: Uint8Array;
      type: number;
      /** String value, or the object's dump() for other types. */
      value: Uint8Array | Uint8Array[];
      expireAt: number;
      encoding: number;
      /** OBJECT ENCODING of a collection (keeps one-way conversions). */
      objEncoding?: string;
    };

/**
 * Messages to a shard parked in a session (after an OP_HOLD frame): request frames to execute
 * now (replies go to the reply ring as usual), writes to apply, or the end of the session.
 */
export type SessionMessage =
  | { t: 'frames'; buf: Uint8Array; count: number; group?: WalGroupMark }
  | { t: 'ops'; ops: HoldOp[]; group?: WalGroupMark }
  | { t: 'end'; ops: HoldOp[] };

/** Writes of one message that other shards also write: logged as one all-or-nothing WAL group. */
export interface WalGroupMark {
  gid: number;
  participants: number[];
}
