/**
 * Shared pieces of the sorted-set commands: typed lookups, the reply shapes Redis uses for
 * (member, score) lists in RESP2 and RESP3, writing a computed set to a destination key, and the
 * `keys` functions of the numkeys commands.
 */
import { E } from '../protocol/redis-errors.ts';
import type { RespWriter } from '../protocol/writer.ts';
import { TYPE_ZSET } from '../store/record.ts';
import type { ZSet } from '../store/types/zset.ts';
import { NOTIFY_GENERIC, NOTIFY_ZSET } from './notify-flags.ts';
import type { ShardContext } from './types.ts';
import { keyMiss } from './modified.ts';

/** Looks up key argument i for reading: handle, 0 when absent, -1 after a WRONGTYPE reply. */
export function lookupZ(c: ShardContext, i: number): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (h === 0) {
    keyMiss(c, i);
    return 0;
  }
  if (ks.type(h) !== TYPE_ZSET) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  ks.hits++;
  ks.touch(h);
  return h;
}

/**
 * After removing members from the zset of key argument i (handle h, the last key looked up):
 * notifies `event` and deletes the key when it became empty, as Redis does.
 */
export function afterRemove(c: ShardContext, h: number, z: ZSet, event: string): void {
  c.modified(h, NOTIFY_ZSET, event);
  if (z.size === 0) {
    c.modified(h, NOTIFY_GENERIC, 'del');
    c.ks.removeFound(h);
  }
}

/** Array header for n (member, score?) entries: flat in RESP2, pairs in RESP3. */
export function entriesHeader(out: RespWriter, n: number, withscores: boolean): void {
  out.arrayHeader(withscores && !out.resp3 ? n * 2 : n);
}

export function writeEntry(out: RespWriter, z: ZSet, p: number, withscores: boolean): void {
  if (withscores && out.resp3) out.arrayHeader(2);
  z.writeMember(out, p);
  if (withscores) out.double(z.scoreAt(p));
}

/** Reusable list of positions for replies whose length is known only at the end. */
export let positions = new Int32Array(256);
export function pushPosition(n: number, p: number): number {
  if (n >= positions.length) {
    const next = new Int32Array(positions.length * 2);
    next.set(positions);
    positions = next;
  }
  positions[n] = p;
  return n + 1;
}

/**
 * Stores a computed zset (or deletes the destination when it is empty) at key argument i, the
 * way Redis's *STORE commands do (setKey: any old type and TTL are replaced), and replies with
 * the size.
 */
export function storeResult(c: ShardContext, i: number, z: ZSet | null, event: string): void {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (z === null || z.size === 0) {
    c.out.integer(0);
    if (h !== 0) {
      c.modified(h, NOTIFY_GENERIC, 'del');
      ks.removeFound(h);
    }
    return;
  }
  const nh = ks.writeObject(req.db, h, req.u8, req.off[i]!, req.len[i]!, z, 0);
  c.out.integer(z.size);
  c.modified(nh, NOTIFY_ZSET, event);
}

function numkeysOf(arg: (i: number) => string, i: number): number {
  const s = arg(i);
  return /^[1-9][0-9]{0,8}$/.test(s) ? Number(s) : -1;
}

/**
 * Key positions for `[dest] numkeys key...` commands; with a malformed numkeys no keys are
 * routed on and the handler replies Redis's error.
 */
export function numkeysKeys(numkeysAt: number, dest: boolean) {
  return (argc: number, arg: (i: number) => string): number[] => {
    if (argc <= numkeysAt) return [];
    const n = numkeysOf(arg, numkeysAt);
    if (n < 0 || numkeysAt + n >= argc) return [];
    const keys: number[] = dest ? [1] : [];
    for (let k = 0; k < n; k++) keys.push(numkeysAt + 1 + k);
    return keys;
  };
}
