import type { Keyspace } from '../store/keyspace.ts';
import type { ShardContext } from './types.ts';

/**
 * Shard side of blocking commands (BLPOP, BZPOPMIN…): keys that blocked clients wait on. The
 * main thread registers a key (OP_BLOCK) after a blocking command found nothing; the first
 * change to it queues the key as ready (once: main registers again if its clients still wait),
 * and the shard reports ready keys in a reply frame (READY_SEQ) after the command, so main
 * retries the waiters in FIFO order right behind the write that fed them.
 */
/** Registered key → the type its clients wait for (TYPE_LIST or TYPE_ZSET). */
const blocked = new Map<string, number>();
export const ready: (number | Uint8Array)[] = [];
export const blockState = { active: false };

function id(db: number, u8: Uint8Array, off: number, len: number): string {
  return db + ':' + Buffer.from(u8.buffer, u8.byteOffset + off, len).toString('latin1');
}

/**
 * OP_BLOCK: args are the awaited type, then keys (db of the frame). A key that already holds that
 * type is ready at once (a race with a push); a key of another type keeps its clients waiting,
 * as in Redis.
 */
export function blockKeys(c: ShardContext): void {
  const { req, ks } = c;
  const type = Number(req.str(0));
  for (let i = 1; i < req.argc; i++) {
    const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
    if (h !== 0 && ks.type(h) === type) {
      ready.push(req.db, req.copy(i));
      continue;
    }
    blocked.set(id(req.db, req.u8, req.off[i]!, req.len[i]!), type);
  }
  blockState.active = blocked.size > 0;
  c.out.ok();
}

/** A key was written and now holds `type`: if clients wait on it for that type, it is ready. */
export function keyWritten(db: number, u8: Uint8Array, off: number, len: number, type: number): void {
  const k = id(db, u8, off, len);
  if (blocked.get(k) === type) {
    blocked.delete(k);
    ready.push(db, u8.slice(off, off + len));
    blockState.active = blocked.size > 0;
  }
}

/**
 * SWAPDB: a key clients wait on in either db that exists after the swap is ready (Redis
 * scanDatabaseForReadyKeys), though no command wrote it.
 */
export function dbsSwapped(ks: Keyspace, a: number, b: number): void {
  if (!blockState.active) return;
  for (const k of blocked.keys()) {
    const colon = k.indexOf(':');
    const db = Number(k.slice(0, colon));
    if (db !== a && db !== b) continue;
    const key = Buffer.from(k.slice(colon + 1), 'latin1');
    const h = ks.lookup(db, key, 0, key.length);
    if (h !== 0) keyWritten(db, key, 0, key.length, ks.type(h));
  }
}

/** OP_UNBLOCK: the last client waiting on these keys left (timeout, CLIENT UNBLOCK, disconnect). */
export function unblockKeys(c: ShardContext): void {
  const { req } = c;
  for (let i = 0; i < req.argc; i++) blocked.delete(id(req.db, req.u8, req.off[i]!, req.len[i]!));
  blockState.active = blocked.size > 0;
  c.out.ok();
}
