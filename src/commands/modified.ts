import { KEY_OFF, TYPE_STRING } from '../store/record.ts';
import { blockState, keyWritten } from './blocked-keys.ts';
import { NOTIFY_KEY_MISS } from './notify-flags.ts';
import type { ShardContext } from './types.ts';
import { touchKey, watchState } from './watch.ts';

/** ShardContext.modified (see its doc); `this` is the context. */
export function modified(this: ShardContext, h: number, cls: number, event: string, db?: number): void {
  const ks = this.ks;
  ks.dirty++;
  if (ks.type(h) !== TYPE_STRING) ks.refreshObject(h);
  if (watchState.active || blockState.active || (this.notifyFlags & cls) !== 0) {
    const u8 = ks.arena.u8(h);
    const b = ks.arena.base(h) + KEY_OFF;
    const len = ks.keyLength(h);
    const d = db ?? this.req.db;
    if (watchState.active) touchKey(d, u8, b, len);
    if (blockState.active) keyWritten(d, u8, b, len, ks.type(h));
    if ((this.notifyFlags & cls) !== 0) this.events.push(d, event, u8.slice(b, b + len));
  }
}

/** ShardContext.propagate (see its doc). */
export function propagate(this: ShardContext, argv: (string | Uint8Array)[]): void {
  this.propagated.push(argv);
}

/**
 * A read found no key at argument i (Redis lookupKeyRead's miss): counts keyspace_misses and
 * queues the 'keymiss' notification (class m).
 */
export function keyMiss(c: ShardContext, i: number): void {
  c.ks.misses++;
  if ((c.notifyFlags & NOTIFY_KEY_MISS) !== 0) c.events.push(c.req.db, 'keymiss', c.req.copy(i));
}
