import { NOTIFY_KEYEVENT, NOTIFY_KEYSPACE } from '../commands/notify-flags.ts';
import { globMatch } from '../util/glob.ts';
import type { Connection } from './connection.ts';

/**
 * Pub/Sub state, all on the main thread (every connection lives there): who listens to which
 * channel, pattern and shard channel, and delivery of published messages as Redis frames them
 * (`message` / `pmessage` / `smessage`, arrays in RESP2, push frames in RESP3).
 *
 * Channel names are binary: maps are keyed by the bytes as a latin1 string (one char per byte,
 * so distinct byte strings never collide). Subscribers of a channel are kept in subscription
 * order (Redis 7.0 keeps a list per channel); patterns are tried in the order they were first
 * subscribed (Redis walks a dict, so its order is arbitrary).
 */

/** One connection's subscriptions (Redis c->pubsub_channels, pubsub_patterns, pubsubshard_channels). */
export class Subscriptions {
  readonly channels = new Map<string, Buffer>();
  readonly patterns = new Map<string, Buffer>();
  readonly shard = new Map<string, Buffer>();

  /** Channels + patterns: the count SUBSCRIBE/PSUBSCRIBE replies carry (clientSubscriptionsCount). */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  get total(): number {
    return this.channels.size + this.patterns.size + this.shard.size;
  }
}

interface PatternEntry {
  pat: Buffer;
  clients: Set<Connection>;
}

export type SubKind = 'channel' | 'pattern' | 'shard';

const MESSAGE = frameHead('message', 3);
const PMESSAGE = frameHead('pmessage', 4);
const SMESSAGE = frameHead('smessage', 3);

/** `*n` / `>n` plus the kind as a bulk string, for both protocols. */
function frameHead(kind: string, n: number): [Buffer, Buffer] {
  const k = `$${kind.length}\r\n${kind}\r\n`;
  return [Buffer.from(`*${n}\r\n${k}`), Buffer.from(`>${n}\r\n${k}`)];
}

/** A message frame: head then each part as a bulk string, in one fresh Buffer (pushes keep it). */
function frame(head: Buffer, parts: Buffer[]): Buffer {
  let n = head.length;
  for (const p of parts) n += p.length + String(p.length).length + 5;
  const out = Buffer.allocUnsafe(n);
  let o = head.copy(out, 0);
  for (const p of parts) {
    o += out.write(`$${p.length}\r\n`, o, 'latin1');
    o += p.copy(out, o);
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

/** Lazily built RESP2/RESP3 variants of one frame, shared by every receiver. */
class Frames {
  private f2: Buffer | null = null;
  private f3: Buffer | null = null;
  private readonly head: [Buffer, Buffer];
  private readonly parts: Buffer[];

  constructor(head: [Buffer, Buffer], parts: Buffer[]) {
    this.head = head;
    this.parts = parts;
  }

  for(conn: Connection): Buffer {
    if (conn.resp3) return (this.f3 ??= frame(this.head[1], this.parts));
    return (this.f2 ??= frame(this.head[0], this.parts));
  }
}

export class PubSub {
  readonly channels = new Map<string, Set<Connection>>();
  readonly patterns = new Map<string, PatternEntry>();
  readonly shardChannels = new Map<string, Set<Connection>>();
  /** notify-keyspace-events flags (NOTIFY_*), kept in step with the config by the server. */
  notifyFlags = 0;
  /** The flags as shards apply them: 0 unless K or E is set (nothing would be published). */
  get shardFlags(): number {
    return this.notifyFlags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) ? this.notifyFlags : 0;
  }
  /** Messages handed to subscribers since start (a message to n receivers counts n). */
  delivered = 0;
  /** PUBLISH/SPUBLISH calls and keyspace notifications sent. */
  published = 0;
  /** Hands bytes to a subscriber (the server pushes them and checks its output limits). */
  private readonly deliver: (conn: Connection, bytes: Buffer) => void;

  constructor(deliver: (conn: Connection, bytes: Buffer) => void) {
    this.deliver = deliver;
  }

  /** Subscribe `conn`; false when it already was. The caller replies. */
  subscribe(conn: Connection, kind: SubKind, name: Buffer): boolean {
    const subs = (conn.subs ??= new Subscriptions());
    const key = name.toString('latin1');
    const own = kind === 'channel' ? subs.channels : kind === 'pattern' ? subs.patterns : subs.shard;
    if (own.has(key)) return false;
    const copy = Buffer.from(name);
    own.set(key, copy);
    if (kind === 'pattern') {
      let e = this.patterns.get(key);
      if (e === undefined) this.patterns.set(key, (e = { pat: copy, clients: new Set() }));
      e.clients.add(conn);
    } else {
      const map = kind === 'channel' ? this.channels : this.shardChannels;
      let set = map.get(key);
      if (set === undefined) map.set(key, (set = new Set()));
      set.add(conn);
    }
    conn.subscribed = true;
    return true;
  }

  /** Unsubscribe `conn`; false when it was not subscribed. The caller replies. */
  unsubscribe(conn: Connection, kind: SubKind, name: Buffer | string): boolean {
    const subs = conn.subs;
    if (subs === null) return false;
    const key = typeof name === 'string' ? name : name.toString('latin1');
    const own = kind === 'channel' ? subs.channels : kind === 'pattern' ? subs.patterns : subs.shard;
    if (!own.delete(key)) return false;
    if (kind === 'pattern') {
      const e = this.patterns.get(key)!;
      e.clients.delete(conn);
      if (e.clients.size === 0) this.patterns.delete(key);
    } else {
      const map = kind === 'channel' ? this.channels : this.shardChannels;
      const set = map.get(key)!;
      set.delete(conn);
      // Drop empty entries so PUBSUB CHANNELS and memory follow the live subscriptions.
      if (set.size === 0) map.delete(key);
    }
    return true;
  }

  /** Redis clears CLIENT_PUBSUB once nothing is left (after UNSUBSCRIBE-type commands). */
  updateMode(conn: Connection): void {
    if (conn.subs !== null && conn.subs.total === 0) conn.subscribed = false;
  }

  /** Drop every subscription without replies (disconnect, RESET, output-limit kill). */
  removeClient(conn: Connection): void {
    const subs = conn.subs;
    if (subs === null) return;
    for (const k of [...subs.channels.keys()]) this.unsubscribe(conn, 'channel', k);
    for (const k of [...subs.patterns.keys()]) this.unsubscribe(conn, 'pattern', k);
    for (const k of [...subs.shard.keys()]) this.unsubscribe(conn, 'shard', k);
    conn.subscribed = false;
  }

  /** PUBLISH: deliver to the channel's subscribers and matching patterns; returns the receivers. */
  publish(channel: Buffer, message: Buffer): number {
    this.published++;
    let n = 0;
    if (this.channels.size > 0) {
      const set = this.channels.get(channel.toString('latin1'));
      if (set !== undefined) {
        const f = new Frames(MESSAGE, [channel, message]);
        for (const conn of set) {
          this.deliver(conn, f.for(conn));
          n++;
        }
      }
    }
    if (this.patterns.size > 0) {
      for (const e of this.patterns.values()) {
        if (!globMatch(e.pat, 0, e.pat.length, channel, 0, channel.length, false)) continue;
        const f = new Frames(PMESSAGE, [e.pat, channel, message]);
        for (const conn of e.clients) {
          this.deliver(conn, f.for(conn));
          n++;
        }
      }
    }
    this.delivered += n;
    return n;
  }

  /** SPUBLISH: shard channels ignore patterns. */
  spublish(channel: Buffer, message: Buffer): number {
    this.published++;
    const set = this.shardChannels.size > 0 ? this.shardChannels.get(channel.toString('latin1')) : undefined;
    if (set === undefined) return 0;
    const f = new Frames(SMESSAGE, [channel, message]);
    for (const conn of set) this.deliver(conn, f.for(conn));
    this.delivered += set.size;
    return set.size;
  }

  /**
   * Keyspace notifications as [db, event, key] triples (a shard's batch, or the cross-shard
   * executor's): Redis notifyKeyspaceEvent's two channels. The event class was already checked
   * where the event was raised.
   */
  keyspaceEvents(events: (number | string | Uint8Array)[]): void {
    // Nobody can be listening: nothing to build. (The shards only queue events when enabled.)
    if (this.channels.size === 0 && this.patterns.size === 0) return;
    const flags = this.notifyFlags;
    for (let i = 0; i + 2 < events.length; i += 3) {
      const db = events[i] as number;
      const event = events[i + 1] as string;
      const k = events[i + 2] as Uint8Array;
      const key = Buffer.from(k.buffer, k.byteOffset, k.byteLength);
      if (flags & NOTIFY_KEYSPACE) {
        this.publish(Buffer.concat([Buffer.from(`__keyspace@${db}__:`), key]), Buffer.from(event));
      }
      if (flags & NOTIFY_KEYEVENT) this.publish(Buffer.from(`__keyevent@${db}__:${event}`), key);
    }
  }

  /** Names of active channels (or shard channels) matching `pattern` (all when null). */
  channelList(shard: boolean, pattern: Buffer | null): Buffer[] {
    const out: Buffer[] = [];
    const map = shard ? this.shardChannels : this.channels;
    for (const key of map.keys()) {
      const name = Buffer.from(key, 'latin1');
      if (pattern === null || globMatch(pattern, 0, pattern.length, name, 0, name.length, false))
        out.push(name);
    }
    return out;
  }

  numSub(shard: boolean, channel: Buffer): number {
    return (shard ? this.shardChannels : this.channels).get(channel.toString('latin1'))?.size ?? 0;
  }
}
