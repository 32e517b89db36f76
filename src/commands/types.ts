import type { RequestView } from '../router/frames.ts';
import type { RespWriter } from '../protocol/writer.ts';
import type { Keyspace } from '../store/keyspace.ts';
import type { SlowLog } from '../observability/slowlog.ts';

/**
 * How the main thread routes a command:
 * - local: executed on the main thread (connection, server, config)
 * - key:   one key (or keys that must share a shard) → that key's shard
 * - keys:  every key is independent (MGET, DEL, EXISTS…): split per shard, replies combined
 * - pairs: key/value pairs (MSET): split per shard, replies combined
 * - all:   broadcast to every shard (DBSIZE, KEYS, FLUSHDB…), replies combined
 * - cross: writes depend on reads of keys that may live in other shards (RENAME, COPY,
 *          MSETNX): same shard → sent as `key`; otherwise the two-phase hold
 * - gather: read-only over keys in several shards, computed on main (LCS)
 * - multi: any number of keys whose values interact (SMOVE, SINTERSTORE, ZUNION, LMOVE…). The
 *          shard handler is written as if every key were local: when the keys share a shard it
 *          runs there; otherwise main holds the shards, copies the keys into a scratch keyspace,
 *          runs the same handler and writes the changed keys back (server/cross-exec.ts).
 */
export type Route = 'local' | 'key' | 'keys' | 'pairs' | 'all' | 'cross' | 'gather' | 'multi';

/** How replies from several shards become one reply. */
export type Combine = 'sum' | 'ok' | 'mget' | 'concat' | 'first';

export interface ShardContext {
  ks: Keyspace;
  req: RequestView;
  out: RespWriter;
  shardId: number;
  /** proto-max-bulk-len, for SETRANGE/APPEND size checks. */
  maxBulkLen: number;
  /** This shard's slow commands (SLOWLOG gathers them from every shard). */
  slowlog: SlowLog;
  /** notify-keyspace-events flags; 0 (the default) makes modified() a counter bump. */
  notifyFlags: number;
  /** Keyspace notifications of the current batch as [db, event, key] triples, for main to publish. */
  events: (number | string | Uint8Array)[];
  /**
   * Every command that changes a key calls this once per change (Redis's signalModifiedKey +
   * notifyKeyspaceEvent), after the change and while the key's record `h` still exists (call
   * it before removeFound for deletions): counts the write, re-accounts an object's memory,
   * invalidates WATCHes and queues the keyspace notification `event` of class `cls`
   * (NOTIFY_* of notify-flags.ts). `db` defaults to the request's.
   */
  modified(h: number, cls: number, event: string, db?: number): void;
  /**
   * Replace what the WAL (and replicas) record for the current command (Redis's
   * alsoPropagate / rewriteClientCommandVector): used where replaying the command as sent would
   * not be deterministic — SPOP → SREM of the popped members, EXPIRE/SET EX → PEXPIREAT/PXAT,
   * INCRBYFLOAT → SET. Each call appends one command, name first. A command that changed the
   * keyspace (ks.dirty moved) without calling it is recorded exactly as sent.
   */
  propagate(argv: (string | Uint8Array)[]): void;
  /** Commands recorded by propagate() for the current command (reset before each command). */
  propagated: (string | Uint8Array)[][];
  /**
   * Whether a key this command did not declare (SORT's BY/GET patterns) can be read here: it
   * lives in this shard, or (cross-shard executor) was copied into the scratch keyspace.
   * Absent means every key is local (one shard).
   */
  ownsKey?: (u8: Uint8Array, off: number, len: number) => boolean;
}

export type ShardHandler = (c: ShardContext) => void;

/** Catalog metadata copied from Redis (see scripts/gen-command-catalog.ts). */
export interface CatalogEntry {
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  step: number;
  categories: string[];
  docs: Record<string, unknown>;
}

/** What a family file declares for one command (metadata comes from the catalog). */
export interface CommandDef<L = unknown> {
  name: string;
  route: Route;
  shard?: ShardHandler;
  local?: L;
  combine?: Combine;
  /**
   * Key argument indexes (argv[0] is the command name) for commands whose keys move with
   * their arguments (numkeys, STORE…); returns an error string for a malformed call, which is
   * replied as is. Without it the catalog's firstKey/lastKey/step apply.
   */
  keys?: (argc: number, arg: (i: number) => string) => number[] | string;
}

export interface CommandSpec<L = unknown> extends CatalogEntry, CommandDef<L> {
  /** Position in the table: the opcode carried by ring frames. */
  index: number;
  /** Upper-case name bytes, for matching without building strings. */
  upper: Uint8Array;
  readonly: boolean;
  write: boolean;
  /** Flagged `blocking` (BLPOP…): may park the client (server/blocking.ts). */
  blocking: boolean;
  /** Allowed before AUTH (AUTH, HELLO, QUIT...). */
  noAuth: boolean;
  subcommands: Map<string, CommandSpec<L>> | null;
}
