import { KEY_OFF, TYPE_STRING } from '../store/record.ts';
import type { ShardContext } from './types.ts';

/** ShardContext.modified (see its doc); `this` is the context. */
export function modified(this: ShardContext, h: number, cls: number, event: string, db?: number): void {
  const ks = this.ks;
  ks.dirty++;
  if (ks.type(h) !== TYPE_STRING) ks.refreshObject(h);
  if ((this.notifyFlags & cls) !== 0) {
    const b = ks.arena.base(h) + KEY_OFF;
    this.events.push(db ?? this.req.db, event, ks.arena.u8(h).slice(b, b + ks.keyLength(h)));
  }
}

/** ShardContext.propagate (see its doc). */
export function propagate(this: ShardContext, argv: (string | Uint8Array)[]): void {
  this.propagated.push(argv);
}
