import { parseCopyOptions } from '../commands/copy-options.ts';
import { lcsReply } from '../commands/lcs.ts';
import type { CommandSpec } from '../commands/types.ts';
import { E } from '../protocol/redis-errors.ts';
import { OP_TXREAD, type HoldOp } from '../router/control.ts';
import { FLAG_HOLD, FLAG_RESP3 } from '../router/frames.ts';
import { arrayElements, readInt } from './combine.ts';
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
 * Cross-shard commands whose writes depend on reads in other shards (RENAME, RENAMENX, COPY,
 * MSETNX) and read-only gathers (LCS). A hold sends each involved shard a TXREAD frame; the
 * shard answers and parks. Once every answer is in, the coordinator decides, releases every
 * shard with its writes, and replies. Because the main thread is the only producer and
 * enqueues all TXREAD frames in one go, every shard reaches the hold at the same point of
 * the global order, so holds never deadlock and nobody observes a half-done RENAME.
 * Replies come back under connection id 0 so a client leaving mid-hold cannot strand a shard.
 */
export class Coordinator {
  private readonly srv: Server;
  private txn = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(srv: Server) {
    this.srv = srv;
  }

  onReply(shard: number, txn: number, buf: Buffer, off: number, len: number): void {
    const p = this.pending.get(txn);
    if (p === undefined) return;
    p.parts[shard] = Buffer.from(buf.subarray(off, off + len));
    if (--p.remaining === 0) {
      this.pending.delete(txn);
      p.done(p.parts);
    }
  }

  /**
   * Enqueue phase-1 requests (args per shard) atomically. Returns false when a ring is full.
   * `hold` parks the shards until release().
   */
  start(
    reqs: { shard: number; db: number; args: Buffer[] }[],
    hold: boolean,
    cmd: number,
    done: (parts: (Buffer | null)[], txn: number) => void,
  ): boolean {
    const shards = this.srv.shards;
    for (const r of reqs) {
      let size = 32;
      for (const a of r.args) size += 4 + ((a.length + 3) & ~3);
      if (!shards.canFit(r.shard, size)) return false;
    }
    const txn = ++this.txn;
    const t = Buffer.from(String(txn));
    for (const r of reqs) {
      shards.sendBuffers(
        r.shard,
        COORDINATOR_CONN,
        txn,
        cmd,
        r.db,
        hold ? FLAG_HOLD : 0,
        hold ? [t, ...r.args] : r.args,
      );
    }
    this.pending.set(txn, {
      parts: new Array(shards.count).fill(null),
      remaining: reqs.length,
      done: (parts) => done(parts, txn),
    });
    return true;
  }

  release(txn: number, shards: number[], ops: Map<number, HoldOp[]>): void {
    for (const s of shards) this.srv.shards.release(s, { txn, ops: ops.get(s) ?? [] });
  }
}

/** Parses one TXREAD dump element ([type, expireAt, encoding, value] or nil). */
function parseDump(
  b: Buffer,
  off: number,
): { expireAt: number; encoding: number; value: Buffer } | null | 'WRONGTYPE' {
  if (b[off] === 45) return 'WRONGTYPE';
  if (b[off] !== 42 || readInt(b, off + 1) < 0) return null;
  const el = arrayElements(b.subarray(off));
  const sub = b.subarray(off);
  const expLine = sub.subarray(el[1]!, el[2]!);
  const expText = expLine.toString('latin1', expLine.indexOf(10) + 1, expLine.length - 2);
  const enc = readInt(sub, el[2]! + 1);
  const val = sub.subarray(el[3]!, el[4]!);
  const vs = val.indexOf(10) + 1;
  return { expireAt: Number(expText), encoding: enc, value: Buffer.from(val.subarray(vs, val.length - 2)) };
}

function elementsOf(b: Buffer): number[] {
  return arrayElements(b);
}

/** Route entry for `cross` and `gather` commands. */
export function crossShard(
  srv: Server,
  d: Dispatcher,
  conn: Connection,
  spec: CommandSpec,
  base: number,
): boolean {
  const p = conn.parser;
  const name = spec.name;
  const arg = (i: number): Buffer => Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!));
  const shardOf = (i: number): number => srv.shards.shardOf(p.buf, p.starts[i]!, p.ends[i]!);

  if (name === 'lcs') return lcs(srv, d, conn, spec, arg, shardOf);

  if (name === 'msetnx') {
    if ((p.argc - 1) % 2 !== 0) return d.fail(conn, `ERR wrong number of arguments for 'msetnx' command`);
    const byShard = new Map<number, number[]>();
    for (let i = 1; i < p.argc; i += 2) {
      const s = shardOf(i);
      if (!byShard.has(s)) byShard.set(s, []);
      byShard.get(s)!.push(i);
    }
    if (byShard.size === 1) return d.toKeyShard(conn, spec, base, 1);
    const db = conn.db;
    const reqs = [...byShard].map(([shard, ks]) => ({
      shard,
      db,
      args: ks.flatMap((i) => [Buffer.from('e'), arg(i)]),
    }));
    const values = new Map<number, { key: Buffer; value: Buffer }[]>();
    for (const [shard, ks] of byShard)
      values.set(
        shard,
        ks.map((i) => ({ key: arg(i), value: arg(i + 1) })),
      );
    const seq = conn.takeSeq();
    const ok = srv.coordinator.start(reqs, true, OP_TXREAD, (parts, txn) => {
      let any = false;
      for (const s of byShard.keys()) {
        const b = parts[s]!;
        const el = elementsOf(b);
        for (let k = 0; k + 1 < el.length; k++) if (readInt(b, el[k]! + 1) === 1) any = true;
      }
      const ops = new Map<number, HoldOp[]>();
      if (!any) {
        for (const [s, kv] of values) {
          ops.set(
            s,
            kv.map(
              (x) => ({ op: 'put', db, key: x.key, value: x.value, expireAt: 0, encoding: 0 }) as HoldOp,
            ),
          );
        }
      }
      srv.coordinator.release(txn, [...byShard.keys()], ops);
      srv.deliver(conn, seq, Buffer.from(any ? ':0\r\n' : ':1\r\n'));
    });
    if (!ok) conn.untakeSeq();
    return ok;
  }

  // RENAME / RENAMENX / COPY. The db is captured now: a pipelined SELECT behind this command
  // runs on main before the hold completes and must not redirect the phase-2 writes.
  const srcDb = conn.db;
  let dstDb = srcDb;
  let replace = name !== 'renamenx' && name !== 'copy';
  if (name === 'copy') {
    const opts = parseCopyOptions(
      p.argc - 1,
      (i) => p.buf.toString('utf8', p.starts[i + 1]!, p.ends[i + 1]!),
      conn.db,
      srv.config.get('databases'),
    );
    if (typeof opts === 'string') return d.fail(conn, opts);
    dstDb = opts.dstDb;
    replace = opts.replace;
  }
  const srcShard = shardOf(1);
  const dstShard = shardOf(2);
  if (srcShard === dstShard) return d.toKeyShard(conn, spec, base, 1);
  const src = arg(1);
  const dst = arg(2);
  const isCopy = name === 'copy';
  const reqs = [
    { shard: srcShard, db: srcDb, args: [Buffer.from('d'), src] },
    { shard: dstShard, db: dstDb, args: [Buffer.from('e'), dst] },
  ];
  const seq = conn.takeSeq();
  const ok = srv.coordinator.start(reqs, true, OP_TXREAD, (parts, txn) => {
    const sb = parts[srcShard]!;
    const dump = parseDump(sb, elementsOf(sb)[0]!);
    const db = parts[dstShard]!;
    const dstExists = readInt(db, elementsOf(db)[0]! + 1) === 1;
    const ops = new Map<number, HoldOp[]>();
    let reply: string;
    if (dump === 'WRONGTYPE') reply = `-${E.WRONGTYPE}\r\n`;
    else if (dump === null) reply = isCopy ? ':0\r\n' : `-${E.NO_SUCH_KEY}\r\n`;
    else if (dstExists && !replace) reply = ':0\r\n';
    else {
      ops.set(dstShard, [
        {
          op: 'put',
          db: dstDb,
          key: dst,
          value: dump.value,
          expireAt: dump.expireAt,
          encoding: dump.encoding,
        },
      ]);
      if (!isCopy) ops.set(srcShard, [{ op: 'del', db: srcDb, key: src }]);
      reply = name === 'rename' ? '+OK\r\n' : ':1\r\n';
    }
    srv.coordinator.release(txn, [srcShard, dstShard], ops);
    srv.deliver(conn, seq, Buffer.from(reply));
  });
  if (!ok) conn.untakeSeq();
  return ok;
}

/** LCS: fetch both strings (one consistent point in the global order), compute on main. */
function lcs(
  srv: Server,
  d: Dispatcher,
  conn: Connection,
  spec: CommandSpec,
  arg: (i: number) => Buffer,
  shardOf: (i: number) => number,
): boolean {
  const p = conn.parser;
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
  void FLAG_RESP3;
  void d;
  const ok = srv.coordinator.start(reqs, false, spec.index, (parts) => {
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
