import type { MessagePort } from 'node:worker_threads';
import { EVENTS } from '../router/control.ts';
import { KEY_OFF } from '../store/record.ts';
import {
  eventsToFlags,
  NOTIFY_EXPIRED,
  NOTIFY_KEYEVENT,
  NOTIFY_KEYSPACE,
  NOTIFY_NEW,
} from './notify-flags.ts';
import type { ShardContext } from './types.ts';

/**
 * A shard's side of keyspace notifications: applies notify-keyspace-events to the context
 * (ShardContext.modified queues events only for enabled classes; the keyspace's expiry hook
 * queues 'expired' when x is on), and posts the queued [db, event, key] triples to main in one message per flush of
 * replies. With notifications off (the default) nothing is queued and no hook is installed.
 */
export class ShardNotifier {
  private readonly ctx: ShardContext;
  private readonly port: MessagePort;
  private readonly ctl: Int32Array;

  constructor(ctx: ShardContext, port: MessagePort, ctl: Int32Array) {
    this.ctx = ctx;
    this.port = port;
    this.ctl = ctl;
    // Installed once and chained: the WAL hangs its DEL records off the same hook.
    const prev = ctx.ks.onExpired;
    ctx.ks.onExpired =
      prev === null
        ? this.expired
        : (h, db) => {
            prev(h, db);
            this.expired(h, db);
          };
  }

  configure(events: string): void {
    const flags = eventsToFlags(events);
    // Without K or E nothing is published, so nothing needs queueing.
    const on = flags > 0 && (flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) !== 0;
    this.ctx.notifyFlags = on ? flags : 0;
    this.ctx.ks.onCreate = on && (flags & NOTIFY_NEW) !== 0 ? this.created : null;
  }

  /** A write created a key (Redis dbAdd): 'new', before the command's own event. */
  private readonly created = (h: number, db: number): void => {
    const ks = this.ctx.ks;
    const b = ks.arena.base(h) + KEY_OFF;
    this.ctx.events.push(db, 'new', ks.arena.u8(h).slice(b, b + ks.keyLength(h)));
  };

  /** Lazy or active expiry is about to delete record h: Redis's 'expired' event. */
  private readonly expired = (h: number, db: number): void => {
    if ((this.ctx.notifyFlags & NOTIFY_EXPIRED) === 0) return;
    const ks = this.ctx.ks;
    const b = ks.arena.base(h) + KEY_OFF;
    this.ctx.events.push(db, 'expired', ks.arena.u8(h).slice(b, b + ks.keyLength(h)));
  };

  /** Post the queued events (call before publishing the replies they precede). */
  post(): void {
    this.port.postMessage(this.ctx.events);
    this.ctx.events.length = 0;
    Atomics.add(this.ctl, EVENTS, 1);
  }
}
