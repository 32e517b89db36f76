import { parseCopyOptions } from '../commands/copy-options.ts';
import { dumpKeys } from '../commands/hold.ts';
import { modified, propagate } from '../commands/modified.ts';
import type { CommandSpec, ShardContext } from '../commands/types.ts';
import { SlowLog } from '../observability/slowlog.ts';
import { readResp, type RespValue } from '../protocol/reader.ts';
import { RespWriter } from '../protocol/writer.ts';
import { OP_DUMP, type HoldOp } from '../router/control.ts';
import { RequestView, requestSize, writeRequest } from '../router/frames.ts';
import { Keyspace } from '../store/keyspace.ts';
import { restoreObject } from '../store/object.ts';
import { ENCODING, TYPE_STRING } from '../store/record.ts';
import type { Connection } from './connection.ts';
import type { Dispatcher } from './dispatch.ts';
import type { Server } from './server.ts';
import { Session } from './session.ts';

interface KeyRef {
  shard: number;
  db: number;
  key: Buffer;
}

/**
 * The cross-shard executor for route `multi` commands whose keys live in several shards
 * (SMOVE, SINTERSTORE, ZUNIONSTORE, LMOVE, RENAME, COPY, MSETNX…). It holds the shards (a
 * session), copies the keys into a scratch keyspace on the main thread, runs the command's own
 * shard handler there, and writes back the keys whose value changed before letting the shards
 * go: the same code decides the result as in the one-shard case, and nobody sees a half-done
 * command. Inside EXEC it runs in the transaction's session.
 */
export function crossExec(
  srv: Server,
  d: Dispatcher,
  conn: Connection,
  spec: CommandSpec,
  base: number,
  keys: number[],
): boolean {
  void d;
  const p = conn.parser;
  const argv: Buffer[] = [];
  for (let i = base; i < p.argc; i++) argv.push(Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!)));
  const dbs = keys.map(() => conn.db);
  if (spec.name === 'copy') {
    const opts = parseCopyOptions(
      argv.length,
      (i) => argv[i]!.toString(),
      conn.db,
      srv.config.get('databases'),
    );
    if (typeof opts !== 'string') dbs[1] = opts.dstDb;
  }
  const refs: KeyRef[] = keys.map((i, k) => ({
    shard: srv.shards.shardOf(p.buf, p.starts[i]!, p.ends[i]!),
    db: dbs[k]!,
    key: Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!)),
  }));
  const job: Job = { spec, argv, refs, db: conn.db, resp3: conn.resp3 };
  const seq = conn.takeSeq();
  const active = srv.activeSession;
  if (active !== null) {
    // Inside EXEC: later commands of the transaction wait for this one.
    const prev = active.pending ?? Promise.resolve();
    active.pending = prev.then(async () => {
      try {
        const r = await run(srv, active, job);
        active.write(r.ops);
        if (r.ops.size > 0) await active.sync(r.ops.keys());
        srv.deliver(conn, seq, r.reply);
      } catch (err) {
        // Answer and carry on with the transaction rather than leave an unhandled rejection.
        srv.log.error({ err, command: spec.name }, 'cross-shard command failed inside EXEC');
        srv.deliver(conn, seq, Buffer.from(`-ERR internal error in cross-shard ${spec.name}\r\n`));
      }
    });
    return true;
  }
  const shards = [...new Set(refs.map((r) => r.shard))].sort((a, b) => a - b);
  const s = Session.open(srv, shards, 0, (sess) => {
    void run(srv, sess, job).then(
      async (r) => {
        // Writes first, then wait until the shards have logged them: the reply is an ack.
        if (r.ops.size > 0) {
          sess.write(r.ops);
          await sess.sync(r.ops.keys());
        }
        sess.end();
        srv.deliver(conn, seq, r.reply);
      },
      (err: unknown) => {
        sess.end();
        srv.log.error({ err, command: spec.name }, 'cross-shard command failed');
        srv.deliver(conn, seq, Buffer.from(`-ERR internal error in cross-shard ${spec.name}\r\n`));
      },
    );
  });
  if (s === null) {
    conn.untakeSeq();
    return false;
  }
  return true;
}

interface Job {
  spec: CommandSpec;
  argv: Buffer[];
  refs: KeyRef[];
  db: number;
  resp3: boolean;
}

async function run(
  srv: Server,
  session: Session,
  job: Job,
): Promise<{ reply: Buffer; ops: Map<number, HoldOp[]> }> {
  // Unique keys, fetched per (shard, db).
  const unique = new Map<string, KeyRef>();
  for (const r of job.refs) unique.set(`${r.db}:${r.key.toString('latin1')}`, r);
  const groups = new Map<string, KeyRef[]>();
  for (const r of unique.values()) {
    const g = `${r.shard}:${r.db}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r);
  }
  const lists = [...groups.values()];
  const dumps = await Promise.all(
    lists.map((g) =>
      session.request(
        g[0]!.shard,
        OP_DUMP,
        g[0]!.db,
        g.map((r) => r.key),
      ),
    ),
  );
  const ks = scratchKeyspace(srv);
  ks.now = Date.now();
  lists.forEach((g, gi) => {
    const arr = readResp(dumps[gi]!) as RespValue[];
    g.forEach((r, k) => load(ks, r, arr[k]!));
  });
  const all = [...unique.values()];
  const before = all.map((r) => snapshot(ks, r));
  const ctx = scratchContext(srv, ks, job);
  try {
    job.spec.shard!(ctx);
  } catch (err) {
    ctx.out.reset();
    ctx.out.error(`ERR internal error: ${(err as Error).message}`);
  }
  const reply = ctx.out.take();
  const ops = new Map<number, HoldOp[]>();
  all.forEach((r, k) => {
    if (snapshot(ks, r).equals(before[k]!)) return;
    if (!ops.has(r.shard)) ops.set(r.shard, []);
    ops.get(r.shard)!.push(writeOp(ks, r));
  });
  srv.keyspaceEvents(ctx.events);
  ks.flushAll();
  return { reply, ops };
}

let scratch: Keyspace | null = null;
function scratchKeyspace(srv: Server): Keyspace {
  scratch ??= new Keyspace(srv.config.get('databases'));
  return scratch;
}

function load(ks: Keyspace, r: KeyRef, d: RespValue): void {
  if (!Array.isArray(d)) return;
  const [type, exp, enc, value] = d as [number, Buffer, number | Buffer, Buffer | Buffer[]];
  const expireAt = Number(exp.toString());
  const h = ks.lookup(r.db, r.key, 0, r.key.length);
  if (type === TYPE_STRING) {
    const v = value as Buffer;
    const nh = ks.writeString(r.db, h, r.key, 0, r.key.length, v.length, expireAt);
    ks.arena.u8(nh).set(v, ks.valueOffset(nh));
    ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = enc as number;
  } else {
    const obj = restoreObject(type, value as Buffer[], (enc as Buffer).toString());
    ks.writeObject(r.db, h, r.key, 0, r.key.length, obj, expireAt);
  }
}

const view = new RequestView();
const dumpOut = new RespWriter(4096);

/** The key's full state as bytes (the OP_DUMP encoding), to see whether the command changed it. */
function snapshot(ks: Keyspace, r: KeyRef): Buffer {
  frame(view, r.db, false, [r.key]);
  dumpOut.reset();
  dumpKeys({ ks, req: view, out: dumpOut } as unknown as ShardContext);
  return Buffer.from(dumpOut.buf.subarray(0, dumpOut.pos));
}

function writeOp(ks: Keyspace, r: KeyRef): HoldOp {
  const h = ks.lookup(r.db, r.key, 0, r.key.length);
  if (h === 0) return { op: 'del', db: r.db, key: r.key };
  const isString = ks.type(h) === TYPE_STRING;
  const vo = isString ? ks.valueOffset(h) : 0;
  return {
    op: 'put',
    db: r.db,
    key: r.key,
    type: ks.type(h),
    value: isString ? ks.arena.u8(h).slice(vo, vo + ks.valueLength(h)) : ks.getObject(h).dump(),
    expireAt: ks.getExpire(h),
    encoding: isString ? ks.arena.u8(h)[ks.arena.base(h) + ENCODING]! : 0,
    objEncoding: isString ? undefined : ks.getObject(h).encoding(),
  };
}

function frame(v: RequestView, db: number, resp3: boolean, args: Buffer[]): void {
  const src = Buffer.concat(args);
  const starts = new Int32Array(args.length);
  const ends = new Int32Array(args.length);
  const idx = new Int32Array(args.length);
  let p = 0;
  args.forEach((a, k) => {
    starts[k] = p;
    p += a.length;
    ends[k] = p;
    idx[k] = k;
  });
  const lens = args.map((a) => a.length);
  const u8 = new Uint8Array(requestSize(lens, lens.length));
  const i32 = new Int32Array(u8.buffer);
  writeRequest(u8, i32, 0, 0, 0, 0, db, resp3 ? 1 : 0, src, starts, ends, idx, args.length);
  v.decode(u8, i32, 0);
}

const slowlog = new SlowLog();
function scratchContext(srv: Server, ks: Keyspace, job: Job): ShardContext {
  const req = new RequestView();
  frame(req, job.db, job.resp3, job.argv);
  const out = new RespWriter(4096);
  out.resp3 = job.resp3;
  return {
    ks,
    req,
    out,
    shardId: -1,
    maxBulkLen: srv.config.get('proto-max-bulk-len'),
    slowlog,
    notifyFlags: srv.notifyFlags,
    events: [],
    modified,
    propagate,
    propagated: [],
    // Only the copied keys are here: a SORT pattern naming another key must not read "missing".
    ownsKey: (u8, off, len) => {
      const k = Buffer.from(u8.buffer, u8.byteOffset + off, len);
      return job.refs.some((r) => r.db === job.db && r.key.equals(k));
    },
  };
}
