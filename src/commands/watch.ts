import type { Keyspace } from '../store/keyspace.ts';
import { hashBytes } from '../store/keytable.ts';
import type { ShardContext } from './types.ts';

/**
 * Shard side of WATCH: which connections watch which keys of this shard, and which of those
 * connections saw a watched key change (Redis's touchWatchedKey). EXEC asks each held shard
 * (OP_HOLD) whether its connection is dirty. Keys are identified by db + latin1 bytes (lossless).
 */
const watchers = new Map<string, Set<number>>();
interface ConnWatch {
  /** key id → whether the key existed when WATCHed (a vanished key was expired or deleted). */
  keys: Map<string, { db: number; key: Buffer; existed: boolean }>;
}
const byConn = new Map<number, ConnWatch>();
const dirty = new Set<number>();

/** True while any connection watches a key here: modified() checks it before building ids. */
export const watchState = { active: false };

function id(db: number, u8: Uint8Array, off: number, len: number): string {
  return db + ':' + Buffer.from(u8.buffer, u8.byteOffset + off, len).toString('latin1');
}

/** OP_WATCH: args [connId, key…]. */
export function watchKeys(c: ShardContext): void {
  const { req, ks } = c;
  const conn = Number(req.str(0));
  let w = byConn.get(conn);
  if (w === undefined) byConn.set(conn, (w = { keys: new Map() }));
  for (let i = 1; i < req.argc; i++) {
    const k = id(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (w.keys.has(k)) continue;
    const existed = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!) !== 0;
    w.keys.set(k, { db: req.db, key: req.copy(i), existed });
    let set = watchers.get(k);
    if (set === undefined) watchers.set(k, (set = new Set()));
    set.add(conn);
  }
  watchState.active = true;
  c.out.ok();
}

/** OP_UNWATCH: args [connId]. */
export function unwatchConn(c: ShardContext): void {
  forget(Number(c.req.str(0)));
  c.out.ok();
}

function forget(conn: number): void {
  dirty.delete(conn);
  const w = byConn.get(conn);
  if (w === undefined) return;
  byConn.delete(conn);
  for (const k of w.keys.keys()) {
    const set = watchers.get(k);
    if (set === undefined) continue;
    set.delete(conn);
    if (set.size === 0) watchers.delete(k);
  }
  watchState.active = watchers.size > 0;
}

/** A key changed: every connection watching it will fail its EXEC. */
export function touchKey(db: number, u8: Uint8Array, off: number, len: number): void {
  const set = watchers.get(id(db, u8, off, len));
  if (set !== undefined) for (const conn of set) dirty.add(conn);
}

/**
 * FLUSHDB / FLUSHALL (db -1), called before the flush, and SWAPDB (`other`: the db swapped
 * with, called after the swap): the watchers of keys that exist there — in either db for a swap,
 * expired or not — are touched. A WATCHed key that did not exist is not changed by a flush
 * (Redis touchAllWatchedKeysInDb).
 */
export function touchDb(ks: Keyspace, db: number, other = -1): void {
  if (!watchState.active) return;
  for (const [conn, w] of byConn) {
    for (const k of w.keys.values()) {
      if (db >= 0 && k.db !== db) continue;
      if (present(ks, k.db, k.key) || (other >= 0 && present(ks, other, k.key))) {
        dirty.add(conn);
        break;
      }
    }
  }
}

/** Whether the key has a record in `db`, without lazy expiry or hit counting (Redis dictFind). */
function present(ks: Keyspace, db: number, key: Buffer): boolean {
  return ks.table(db).find(ks.arena, key, 0, key.length, hashBytes(key, 0, key.length)) !== 0;
}

/**
 * At EXEC (in the hold): whether `conn`'s watches here were touched, or a key that existed at
 * WATCH time is gone (expired since: Redis 7 aborts then too). The watches are dropped.
 */
export function checkWatches(ks: Keyspace, conn: number): boolean {
  let changed = dirty.has(conn);
  const w = byConn.get(conn);
  if (!changed && w !== undefined) {
    for (const k of w.keys.values()) {
      if (k.existed && ks.lookup(k.db, k.key, 0, k.key.length) === 0) {
        changed = true;
        break;
      }
    }
  }
  forget(conn);
  return changed;
}
