import { findCommand } from '../commands/table.ts';
import type { CommandSpec } from '../commands/types.ts';
import {
  E,
  notInSubscribeContext,
  sanitize,
  unknownCommand,
  unknownSubcommand,
  wrongArity,
} from '../protocol/redis-errors.ts';
import { FLAG_RESP3, REQ_HEADER } from '../router/frames.ts';
import { persistenceRefusal, walGroup } from '../persistence/gate.ts';
import { OP_WAL_GROUP } from '../persistence/group-frames.ts';
import type { ShardSet } from '../router/shards.ts';
import { combiner, localWriter } from './combine.ts';
import type { Connection } from './connection.ts';
import type { LocalHandler } from './local.ts';
import { LocalContext } from './local.ts';
import { crossShard } from './coordinator.ts';
import { crossExec } from './cross-exec.ts';
import { execRefused, oomRefused } from './oom.ts';
import { keyArgs } from './key-args.ts';
import { queueCommand, queuesInMulti, unwatchAll } from './transaction.ts';
import { MonitorFeed } from './monitor.ts';
import type { CommandStats } from '../observability/command-stats.ts';
import { recordExec } from '../observability/exec-stats.ts';
import { sampleCommandLatency } from '../observability/latency-monitor.ts';
import type { Server } from './server.ts';

/**
 * Turns one parsed command into work: a main-thread handler, or frames in shard rings.
 * Returns false when a ring is full; nothing was enqueued and the caller retries the same
 * command later (so multi-shard commands land in every ring or in none).
 */
export class Dispatcher {
  private readonly srv: Server;
  private readonly shards: ShardSet;
  private idx = new Int32Array(1024);
  private readonly local: LocalContext;
  private readonly stats: CommandStats;

  constructor(srv: Server, tableSize: number) {
    this.srv = srv;
    this.shards = srv.shards;
    this.local = new LocalContext(srv);
    this.stats = srv.commandStats;
    void tableSize;
  }

  dispatch(conn: Connection): boolean {
    const p = conn.parser;
    const buf = p.buf;
    const argc = p.argc;
    const starts = p.starts;
    const ends = p.ends;
    let spec = findCommand(buf, starts[0]!, ends[0]!);
    if (spec === undefined) {
      if (conn.multi !== null) conn.multi.aborted = true;
      return this.fail(conn, unknownCommand(argStr(conn, 0), restArgs(conn, 1)));
    }
    let base = 1;
    if (spec.subcommands !== null && argc >= 2) {
      const sub = spec.subcommands.get(buf.toString('latin1', starts[1]!, ends[1]!).toLowerCase());
      if (sub !== undefined) {
        spec = sub;
        base = 2;
      } else if (spec.local === undefined || spec.name !== 'command') {
        if (conn.multi !== null) conn.multi.aborted = true;
        return this.fail(conn, unknownSubcommand(argStr(conn, 1), spec.name));
      }
    }
    if (spec.arity > 0 ? argc !== spec.arity : argc < -spec.arity) {
      this.stats.rejected[spec.index]!++;
      if (conn.multi !== null) conn.multi.aborted = true;
      return this.fail(conn, wrongArity(spec.name));
    }
    if (!conn.authenticated && !spec.noAuth) {
      this.stats.rejected[spec.index]!++;
      return this.fail(conn, E.NOAUTH);
    }
    // -LOADING while the data set loads, -MISCONF for writes while a WAL cannot be written.
    const refusal = persistenceRefusal(this.srv.persistence, spec);
    if (refusal !== null) {
      this.stats.rejected[spec.index]!++;
      return this.fail(conn, refusal);
    }
    // maxmemory: -OOM for denyoom commands when their shard(s) cannot evict (server/oom.ts).
    if (!conn.inExec && oomRefused(this.shards, spec, conn.parser, conn.multi !== null)) {
      this.stats.rejected[spec.index]!++;
      if (conn.multi !== null) conn.multi.aborted = true;
      return this.fail(conn, E.OOM);
    }
    if (spec.name === 'exec' && conn.multi !== null && execRefused(this.shards, conn.multi.queue)) {
      this.stats.rejected[spec.index]!++;
      conn.multi = null;
      unwatchAll(this.srv, conn);
      return this.fail(conn, E.EXECABORT_OOM);
    }
    // RESP2 clients with subscriptions may only (un)subscribe, PING, QUIT and RESET (Redis
    // processCommand); RESP3 clients get pushes and may run anything.
    if (conn.subscribed && !conn.resp3 && !SUBSCRIBED_OK.has(spec.name)) {
      this.stats.rejected[spec.index]!++;
      return this.fail(conn, notInSubscribeContext(spec.name));
    }
    const srv = this.srv;
    const queues = conn.multi !== null && queuesInMulti(conn, spec);
    if (queues && spec.flags.includes('no_multi')) {
      conn.multi!.aborted = true;
      return this.fail(conn, E.NOT_IN_TRANSACTION);
    }
    // Before queueing, as Redis processCommand: a write waits for the pause even to be QUEUED.
    if (srv.pause.active && !conn.inExec && (srv.pause.holds(spec) || this.execPaused(conn, spec))) {
      conn.blockedOnPause = true;
      return false;
    }
    if (queues) {
      queueCommand(conn);
      return true;
    }
    if (srv.monitor.clients.size > 0 && !MonitorFeed.SKIP.has(spec.name)) {
      srv.monitor.feed(conn, conn.db, buf, starts, ends, argc);
    }
    conn.lastCommand = spec.name;
    this.stats.calls[spec.index]!++;
    if (spec.blocking && !conn.inExec)
      return srv.blocking.dispatch(conn, spec, () => this.route(conn, spec, base));
    return this.route(conn, spec, base);
  }

  /**
   * CLIENT PAUSE WRITE also holds an EXEC whose queue has a write (Redis is_may_replicate_command
   * looks at the transaction's accumulated flags); the queued commands then run without checks.
   */
  private execPaused(conn: Connection, spec: CommandSpec): boolean {
    if (spec.name !== 'exec' || conn.multi === null) return false;
    for (const { argv } of conn.multi.queue) {
      let q = findCommand(argv[0]!, 0, argv[0]!.length);
      if (q !== undefined && q.subcommands !== null && argv.length > 1)
        q = q.subcommands.get(argv[1]!.toString('latin1').toLowerCase()) ?? q;
      if (q !== undefined && this.srv.pause.holds(q)) return true;
    }
    return false;
  }

  /** Re-run the parser's command without counting it again (a blocked client's retry). */
  reroute(conn: Connection): boolean {
    const p = conn.parser;
    const spec = findCommand(p.buf, p.starts[0]!, p.ends[0]!)!;
    return this.route(conn, spec, 1);
  }

  private route(conn: Connection, spec: CommandSpec, base: number): boolean {
    switch (spec.route) {
      case 'local':
        return this.runLocal(conn, spec, base);
      case 'key':
        return this.toKeyShard(conn, spec, base, spec.firstKey);
      case 'keys':
        return this.split(conn, spec, base, 1);
      case 'pairs':
        return this.split(conn, spec, base, 2);
      case 'all':
        return this.broadcast(conn, spec, base);
      case 'cross':
      case 'gather':
        return crossShard(this.srv, this, conn, spec, base);
      case 'multi':
        return this.multiKey(conn, spec, base);
    }
  }

  /** Route `multi`: one shard when every key lives there, else the cross-shard executor. */
  private multiKey(conn: Connection, spec: CommandSpec, base: number): boolean {
    const keys = keyArgs(conn, spec);
    if (typeof keys === 'string') return this.fail(conn, keys);
    const p = conn.parser;
    const shard = keys.length === 0 ? 0 : this.shards.shardOf(p.buf, p.starts[keys[0]!]!, p.ends[keys[0]!]!);
    for (let k = 1; k < keys.length; k++) {
      if (this.shards.shardOf(p.buf, p.starts[keys[k]!]!, p.ends[keys[k]!]!) !== shard) {
        return crossExec(this.srv, this, conn, spec, base, keys);
      }
    }
    const n = p.argc - base;
    const idx = this.scratch(n);
    for (let i = 0; i < n; i++) idx[i] = base + i;
    return this.sendOne(conn, spec, shard, idx, n);
  }

  /** Everything after the command (and subcommand) name goes to the shard owning key `k`. */
  toKeyShard(conn: Connection, spec: CommandSpec, base: number, k: number): boolean {
    const p = conn.parser;
    const shard = this.shards.shardOf(p.buf, p.starts[k]!, p.ends[k]!);
    const n = p.argc - base;
    const idx = this.scratch(n);
    for (let i = 0; i < n; i++) idx[i] = base + i;
    return this.sendOne(conn, spec, shard, idx, n);
  }

  private sendOne(conn: Connection, spec: CommandSpec, shard: number, idx: Int32Array, n: number): boolean {
    const p = conn.parser;
    const seq = conn.takeSeq();
    const flags = conn.resp3 ? FLAG_RESP3 : 0;
    if (!this.shards.send(shard, conn.id, seq, spec.index, conn.db, flags, p.buf, p.starts, p.ends, idx, n)) {
      conn.untakeSeq();
      return false;
    }
    return true;
  }

  /**
   * Multi-key commands whose keys are independent (MGET, DEL, EXISTS, MSET…): each shard gets
   * its keys (with their values for `stride` 2) in the client's order, and the replies are
   * merged. Single-shard calls skip the merge.
   */
  private split(conn: Connection, spec: CommandSpec, base: number, stride: number): boolean {
    const p = conn.parser;
    const n = p.argc - base;
    if (stride === 2 && n % 2 !== 0) return this.fail(conn, wrongArity(spec.name));
    const count = this.shards.count;
    const first = this.shards.shardOf(p.buf, p.starts[base]!, p.ends[base]!);
    let single = true;
    if (count > 1) {
      for (let a = base + stride; a < p.argc; a += stride) {
        if (this.shards.shardOf(p.buf, p.starts[a]!, p.ends[a]!) !== first) {
          single = false;
          break;
        }
      }
    }
    if (single) {
      const idx = this.scratch(n);
      for (let i = 0; i < n; i++) idx[i] = base + i;
      return this.sendOne(conn, spec, first, idx, n);
    }
    const lists: number[][] = [];
    const positions: number[][] = [];
    for (let s = 0; s < count; s++) {
      lists.push([]);
      positions.push([]);
    }
    for (let a = base, k = 0; a < p.argc; a += stride, k++) {
      const s = this.shards.shardOf(p.buf, p.starts[a]!, p.ends[a]!);
      for (let j = 0; j < stride; j++) lists[s]!.push(a + j);
      positions[s]!.push(k);
    }
    return this.sendParts(conn, spec, lists, positions);
  }

  private broadcast(conn: Connection, spec: CommandSpec, base: number): boolean {
    const lists: number[][] = [];
    const args: number[] = [];
    for (let a = base; a < conn.parser.argc; a++) args.push(a);
    for (let s = 0; s < this.shards.count; s++) lists.push(args);
    return this.sendParts(conn, spec, lists, null);
  }

  /** Enqueue per-shard parts of one command atomically (all rings or none) with a combiner. */
  sendParts(conn: Connection, spec: CommandSpec, lists: number[][], positions: number[][] | null): boolean {
    const p = conn.parser;
    // A write split across shards is logged as one all-or-nothing group (persistence/gate.ts).
    const group = walGroup(this.srv.persistence, spec, lists, positions);
    for (let s = 0; s < lists.length; s++) {
      const l = lists[s]!;
      if (l.length === 0 && positions !== null) continue;
      let size = REQ_HEADER;
      for (const a of l) size += 4 + ((p.ends[a]! - p.starts[a]! + 3) & ~3);
      if (!this.shards.canFit(s, size + (group === null ? 0 : group.markBytes))) return false;
    }
    const seq = conn.takeSeq();
    const flags = conn.resp3 ? FLAG_RESP3 : 0;
    let parts = 0;
    const partBufs: (Buffer | null)[] = [];
    for (let s = 0; s < lists.length; s++) {
      partBufs.push(null);
      const l = lists[s]!;
      if (l.length === 0 && positions !== null) continue;
      const idx = this.scratch(l.length);
      for (let i = 0; i < l.length; i++) idx[i] = l[i]!;
      if (group !== null) this.shards.sendBuffers(s, group.gid, 0, OP_WAL_GROUP, conn.db, 0, group.args);
      this.shards.send(s, conn.id, seq, spec.index, conn.db, flags, p.buf, p.starts, p.ends, idx, l.length);
      parts++;
    }
    conn.combiners.set(seq, {
      parts: partBufs,
      remaining: parts,
      finish: combiner(spec.combine!, conn.resp3, positions),
    });
    return true;
  }

  private runLocal(conn: Connection, spec: CommandSpec, base: number): boolean {
    const handler = spec.local as LocalHandler | undefined;
    if (handler === undefined) return this.fail(conn, unknownCommand(spec.name, []));
    const ctx = this.local;
    ctx.begin(conn, spec, base);
    const t0 = performance.now();
    conn.pushBefore = ctx.seq;
    handler(ctx);
    conn.pushBefore = -1;
    if (ctx.blocked) {
      conn.untakeSeq();
      this.stats.calls[spec.index]!--;
      return false;
    }
    const us = (performance.now() - t0) * 1000;
    recordExec(this.stats.local, spec.index, us, !ctx.deferred && localWriter.buf[0] === 45);
    sampleCommandLatency(this.srv.latency.local, spec.index, us);
    if (this.srv.slowlog.wants(us)) {
      const p = conn.parser;
      this.srv.slowlog.add(us, conn.id, p.argc, (i) => Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!)));
    }
    if (!ctx.deferred) {
      const out = localWriter;
      conn.reply(ctx.seq, out.buf, 0, out.pos);
    }
    return true;
  }

  /** Reply with an error right away (in order behind earlier replies). */
  fail(conn: Connection, msg: string): true {
    const out = localWriter;
    out.reset();
    out.error(sanitize(msg));
    conn.reply(conn.takeSeq(), out.buf, 0, out.pos);
    return true;
  }

  scratch(n: number): Int32Array {
    if (n > this.idx.length) this.idx = new Int32Array(Math.max(n, this.idx.length * 2));
    return this.idx;
  }
}

/** Commands a RESP2 client may send while subscribed. */
const SUBSCRIBED_OK = new Set([
  'ping',
  'subscribe',
  'ssubscribe',
  'psubscribe',
  'unsubscribe',
  'sunsubscribe',
  'punsubscribe',
  'quit',
  'reset',
]);

export function argStr(conn: Connection, i: number): string {
  const p = conn.parser;
  return p.buf.toString('utf8', p.starts[i]!, p.ends[i]!);
}

function restArgs(conn: Connection, from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < conn.parser.argc && i < from + 16; i++) out.push(argStr(conn, i));
  return out;
}
