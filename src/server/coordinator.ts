import type { CommandSpec } from '../commands/types.ts';
import { lcsReply } from '../commands/lcs.ts';
import { READY_SEQ } from '../router/control.ts';
import { arrayElements } from './combine.ts';
import type { Connection } from './connection.ts';
import type { Dispatcher } from './dispatch.ts';
import type { Server } from './server.ts';

/** Connection id reserved for the coordinator's own requests (clients start at 1). */
export const COORDINATOR_CONN = 0;

interface Pending {
  parts: (Buffer | null)[];
  remaining: number;
  done: (parts: (Buffer | null)[]) => void;
}

/**
 * Requests the main thread itself sends to shards (connection id 0): gathers for LCS, session
 * holds and dumps (session.ts), and the shards' ready-key reports for blocked clients. Replies
 * come back under connection id 0 so a client leaving meanwhile cannot strand anything.
 */
export class Coordinator {
  private readonly srv: Server;
  private txn = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(srv: Server) {
    this.srv = srv;
  }

  onReply(shard: number, seq: number, buf: Buffer, off: number, len: number): void {
    if (seq === READY_SEQ) return this.srv.blocking.onReady(buf.subarray(off, off + len));
    const p = this.pending.get(seq);
    if (p === undefined) return;
    p.parts[shard] = Buffer.from(buf.subarray(off, off + len));
    if (--p.remaining === 0) {
      this.pending.delete(seq);
      p.done(p.parts);
    }
  }

  /**
   * Enqueue one request per listed shard atomically (all or none; false when a ring is full).
   * `flags` go on every frame (FLAG_HOLD for session holds). `done` gets the replies by shard.
   */
  start(
    reqs: { shard: number; db: number; args: Buffer[] }[],
    flags: number,
    cmd: number,
    done: (parts: (Buffer | null)[]) => void,
  ): boolean {
    const shards = this.srv.shards;
    for (const r of reqs) {
      let size = 32;
      for (const a of r.args) size += 4 + ((a.length + 3) & ~3);
      if (!shards.canFit(r.shard, size)) return false;
    }
    const seq = ++this.txn;
    for (const r of reqs) shards.sendBuffers(r.shard, COORDINATOR_CONN, seq, cmd, r.db, flags, r.args);
    this.pending.set(seq, { parts: new Array(shards.count).fill(null), remaining: reqs.length, done });
    return true;
  }
}

/** Route entry for `gather` commands (LCS): both values at one point of the order, computed on main. */
export function crossShard(
  srv: Server,
  d: Dispatcher,
  conn: Connection,
  spec: CommandSpec,
  base: number,
): boolean {
  void d;
  void base;
  const p = conn.parser;
  const arg = (i: number): Buffer => Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!));
  const shardOf = (i: number): number => srv.shards.shardOf(p.buf, p.starts[i]!, p.ends[i]!);
  const opts: string[] = [];
  for (let i = 3; i < p.argc; i++) opts.push(p.buf.toString('utf8', p.starts[i]!, p.ends[i]!));
  const a = shardOf(1);
  const b = shardOf(2);
  const reqs =
    a === b
      ? [{ shard: a, db: conn.db, args: [arg(1), arg(2)] }]
      : [
          { shard: a, db: conn.db, args: [arg(1)] },
          { shard: b, db: conn.db, args: [arg(2)] },
        ];
  const resp3 = conn.resp3;
  const seq = conn.takeSeq();
  const ok = srv.coordinator.start(reqs, 0, spec.index, (parts) => {
    const values: (Buffer | null)[] = [];
    for (const r of reqs) {
      const part = parts[r.shard]!;
      if (part[0] === 45) return srv.deliver(conn, seq, part);
      const el = arrayElements(part);
      for (let k = 0; k + 1 < el.length; k++) {
        const v = part.subarray(el[k]!, el[k + 1]!);
        values.push(v[1] === 45 ? null : v.subarray(v.indexOf(10) + 1, v.length - 2));
      }
    }
    srv.deliver(conn, seq, lcsReply(values[0] ?? Buffer.alloc(0), values[1] ?? Buffer.alloc(0), opts, resp3));
  });
  if (!ok) conn.untakeSeq();
  return ok;
}
