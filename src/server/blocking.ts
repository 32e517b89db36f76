import type { CommandSpec } from '../commands/types.ts';
import { readResp, type RespValue } from '../protocol/reader.ts';
import { OP_BLOCK, OP_UNBLOCK } from '../router/control.ts';
import type { Connection } from './connection.ts';
import { keyArgs } from './key-args.ts';
import { blockTimeoutMs } from '../commands/block-timeout.ts';
import { TYPE_LIST, TYPE_ZSET } from '../store/record.ts';
import type { Server } from './server.ts';

interface Waiter {
  conn: Connection;
  seq: number;
  argv: Buffer[];
  /** The keys it waits on (sources only: BLMOVE's destination does not wake it). */
  keys: { db: number; key: Buffer; id: string; shard: number }[];
  /** argv index of each key in `keys`. */
  keyIdx: number[];
  /** The type that can serve it, as OP_BLOCK's first argument (list or sorted set). */
  awaits: Buffer;
  /** Keys reported ready since the last attempt: the next attempt looks at these only. */
  readyIds: Set<string>;
  /** The reply that means "nothing yet" (what the command answers on timeout). */
  nullReply: Buffer;
  timer: NodeJS.Timeout | null;
  retrying: boolean;
  /** A key became ready while a retry was in flight: retry again when it returns. */
  again: boolean;
  done: boolean;
  /** Timeout or CLIENT UNBLOCK while an attempt was in flight: applied if it finds nothing. */
  cancel: null | 'timeout' | 'error';
}

const UNBLOCKED = Buffer.from('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');

/**
 * Blocking commands (BLPOP, BLMOVE, BZPOPMIN, BLMPOP…). The shard handlers are the
 * non-blocking forms (what Redis runs inside MULTI). Outside MULTI the main thread parks the
 * connection, runs the command, and if it found nothing (a null reply) keeps the client waiting:
 * it asks the keys' shards to report the first write to them (OP_BLOCK), then retries the
 * command for the key's waiters in the order they blocked (Redis serves blocked clients FIFO),
 * until one succeeds, the timeout passes, CLIENT UNBLOCK, or the client leaves.
 */
export class Blocking {
  private readonly srv: Server;
  private readonly byKey = new Map<string, Waiter[]>();
  private readonly byConn = new Map<Connection, Waiter>();

  constructor(srv: Server) {
    this.srv = srv;
  }

  get blockedClients(): number {
    return this.byConn.size;
  }

  /** Dispatch a blocking command outside MULTI; false when a ring was full (retried later). */
  dispatch(conn: Connection, spec: CommandSpec, run: () => boolean): boolean {
    const p = conn.parser;
    const argv: Buffer[] = [];
    for (let i = 0; i < p.argc; i++) argv.push(Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!)));
    const ki = keyArgs(conn, spec);
    // A malformed call (bad numkeys) just runs: the shard handler replies Redis's error.
    if (typeof ki === 'string') return run();
    const keyIdx = spec.name === 'blmove' || spec.name === 'brpoplpush' ? ki.slice(0, 1) : ki;
    const keys = keyIdx.map((i) => {
      const key = argv[i]!;
      return {
        db: conn.db,
        key,
        id: `${conn.db}:${key.toString('latin1')}`,
        shard: this.srv.shards.shardOf(key, 0, key.length),
      };
    });
    const timeout = timeoutMs(spec.name, argv);
    const w: Waiter = {
      conn,
      seq: conn.peekSeq(),
      argv,
      keys,
      keyIdx,
      awaits: Buffer.from(String(spec.name.startsWith('bz') ? TYPE_ZSET : TYPE_LIST)),
      readyIds: new Set(),
      nullReply: Buffer.alloc(0),
      timer: null,
      retrying: true,
      again: false,
      done: false,
      cancel: null,
    };
    this.intercept(w);
    if (!run()) {
      conn.combiners.delete(w.seq);
      return false;
    }
    this.srv.park(conn);
    // The first attempt's answer decides whether the client blocks (see settle()).
    w.timer = timeout > 0 ? setTimeout(() => this.timeout(w), timeout) : null;
    this.pending.set(conn, w);
    return true;
  }

  /** Waiters whose first attempt has not answered yet. */
  private readonly pending = new Map<Connection, Waiter>();

  private intercept(w: Waiter): void {
    w.conn.combiners.set(w.seq, {
      parts: new Array<Buffer | null>(this.srv.shards.count).fill(null),
      remaining: 1,
      finish: (parts) =>
        this.settle(
          w,
          parts.find((x) => x !== null)!,
        ),
    });
  }

  /** An attempt answered: deliver it (served or an error) or keep the client blocked. */
  private settle(w: Waiter, reply: Buffer): Buffer | null {
    w.retrying = false;
    this.pending.delete(w.conn);
    if (w.done) return null;
    if (!isNull(reply) || w.cancel !== null) {
      this.finish(w);
      setImmediate(() => this.srv.unpark(w.conn));
      if (isNull(reply) && w.cancel === 'error') return UNBLOCKED;
      return reply;
    }
    w.nullReply = Buffer.from(reply);
    if (!this.byConn.has(w.conn)) {
      this.byConn.set(w.conn, w);
      for (const k of w.keys) {
        let list = this.byKey.get(k.id);
        if (list === undefined) this.byKey.set(k.id, (list = []));
        list.push(w);
      }
    }
    if (w.again) {
      w.again = false;
      setImmediate(() => this.retry(w));
    } else this.register(w);
    return null;
  }

  /** Ask the keys' shards to report the next write to them. */
  private register(w: Waiter): void {
    const groups = new Map<string, { shard: number; db: number; args: Buffer[] }>();
    for (const k of w.keys) {
      const g = `${k.shard}:${k.db}`;
      if (!groups.has(g)) groups.set(g, { shard: k.shard, db: k.db, args: [w.awaits] });
      groups.get(g)!.args.push(k.key);
    }
    const reqs = [...groups.values()];
    if (!this.srv.coordinator.start(reqs, 0, OP_BLOCK, () => {})) {
      setTimeout(() => this.register(w), 1);
      return;
    }
    this.srv.schedulePublish();
  }

  /** A shard reports keys written while clients wait on them: [db, key, db, key…]. */
  onReady(body: Buffer): void {
    const arr = readResp(body) as RespValue[];
    const seen = new Set<Waiter>();
    for (let i = 0; i + 1 < arr.length; i += 2) {
      const id = `${arr[i] as number}:${(arr[i + 1] as Buffer).toString('latin1')}`;
      for (const w of this.byKey.get(id) ?? []) w.readyIds.add(id);
      for (const w of this.byKey.get(id) ?? []) {
        if (seen.has(w)) continue;
        seen.add(w);
        if (w.retrying) w.again = true;
        else this.retry(w);
      }
    }
    this.srv.schedulePublish();
  }

  /** Run the command again with the sequence number the client is waiting on. */
  private retry(w: Waiter): void {
    if (w.done || w.conn.closed) return;
    w.retrying = true;
    this.intercept(w);
    const ok = this.srv.redispatch(w.conn, retryArgv(w), w.seq);
    // The waiting command keeps owning w.seq whether or not the retry could be enqueued.
    w.conn.rewindSeq(w.seq + 1);
    if (!ok) {
      w.conn.combiners.delete(w.seq);
      w.retrying = false;
      setTimeout(() => this.retry(w), 1);
    }
    this.srv.schedulePublish();
  }

  private timeout(w: Waiter): void {
    if (w.done) return;
    if (w.retrying) {
      w.cancel ??= 'timeout';
      return;
    }
    this.finish(w);
    w.conn.combiners.delete(w.seq);
    this.srv.deliver(
      w.conn,
      w.seq,
      w.nullReply.length > 0 ? w.nullReply : Buffer.from(w.conn.resp3 ? '_\r\n' : '*-1\r\n'),
    );
    this.srv.unpark(w.conn);
  }

  /** CLIENT UNBLOCK: true when the client was blocked here. */
  unblock(conn: Connection, error: boolean): boolean {
    const w = this.byConn.get(conn) ?? this.pending.get(conn);
    if (w === undefined || w.done) return false;
    if (w.retrying) {
      w.cancel = error ? 'error' : 'timeout';
      return true;
    }
    if (!error) {
      this.timeout(w);
      return true;
    }
    this.finish(w);
    w.conn.combiners.delete(w.seq);
    this.srv.deliver(conn, w.seq, UNBLOCKED);
    this.srv.unpark(conn);
    return true;
  }

  isBlocked(conn: Connection): boolean {
    return this.byConn.has(conn) || this.pending.has(conn);
  }

  /** The client left: forget it. */
  remove(conn: Connection): void {
    const w = this.byConn.get(conn) ?? this.pending.get(conn);
    if (w !== undefined) this.finish(w);
    this.pending.delete(conn);
  }

  private finish(w: Waiter): void {
    w.done = true;
    if (w.timer !== null) clearTimeout(w.timer);
    this.byConn.delete(w.conn);
    const orphaned: Waiter['keys'] = [];
    for (const k of w.keys) {
      const list = this.byKey.get(k.id);
      if (list === undefined) continue;
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) {
        this.byKey.delete(k.id);
        orphaned.push(k);
      }
    }
    // Nobody waits on these keys now: the shards drop their registration (else it lingers
    // until the key is written, without bound for keys that never are).
    if (orphaned.length > 0) this.unregister(orphaned);
  }

  private unregister(keys: Waiter['keys']): void {
    const groups = new Map<string, { shard: number; db: number; args: Buffer[] }>();
    for (const k of keys) {
      const g = `${k.shard}:${k.db}`;
      if (!groups.has(g)) groups.set(g, { shard: k.shard, db: k.db, args: [] });
      groups.get(g)!.args.push(k.key);
    }
    for (const req of groups.values()) this.sendUnblock(req);
    this.srv.schedulePublish();
  }

  private sendUnblock(req: { shard: number; db: number; args: Buffer[] }): void {
    if (this.srv.coordinator.start([req], 0, OP_UNBLOCK, () => {})) return;
    setTimeout(() => {
      this.sendUnblock(req);
      this.srv.schedulePublish();
    }, 1);
  }
}

function isNull(b: Buffer): boolean {
  return (b[0] === 42 || b[0] === 36) && b[1] === 45 ? true : b[0] === 95;
}

/** The command's timeout in ms (0 = forever); invalid values are the shard handler's to reject. */
function timeoutMs(name: string, argv: Buffer[]): number {
  const a = argv[name === 'blmpop' || name === 'bzmpop' ? 1 : argv.length - 1];
  if (a === undefined) return 0;
  const ms = blockTimeoutMs(a, 0, a.length);
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

/**
 * The command for a retry: over the keys reported ready only (Redis serves a blocked client from
 * the key that became ready; a wrong-typed or empty key earlier in its list must not answer).
 */
function retryArgv(w: Waiter): Buffer[] {
  const ready = w.keys.map((k, i) => (w.readyIds.has(k.id) ? i : -1)).filter((i) => i >= 0);
  w.readyIds.clear();
  if (ready.length === 0 || ready.length === w.keys.length || w.keyIdx.length !== w.keys.length)
    return w.argv;
  const name = w.argv[0]!.toString().toLowerCase();
  const first = w.keyIdx[0]!;
  const last = w.keyIdx[w.keyIdx.length - 1]!;
  if (name === 'blmpop' || name === 'bzmpop') {
    // timeout numkeys key… rest
    return [
      ...w.argv.slice(0, first - 1),
      Buffer.from(String(ready.length)),
      ...ready.map((i) => w.argv[w.keyIdx[i]!]!),
      ...w.argv.slice(last + 1),
    ];
  }
  if (name === 'blpop' || name === 'brpop' || name === 'bzpopmin' || name === 'bzpopmax') {
    return [w.argv[0]!, ...ready.map((i) => w.argv[w.keyIdx[i]!]!), ...w.argv.slice(last + 1)];
  }
  return w.argv;
}
