/**
 * Runs commands straight through the shard handlers against a Keyspace, as a shard worker
 * would (for unit tests of code that sits below the ring: snapshots, WAL replay).
 */
import { commandByName } from '../../src/commands/table.ts';
import { modified, propagate } from '../../src/commands/modified.ts';
import type { ShardContext } from '../../src/commands/types.ts';
import { SlowLog } from '../../src/observability/slowlog.ts';
import { RespWriter } from '../../src/protocol/writer.ts';
import { RequestView } from '../../src/router/frames.ts';
import type { Keyspace } from '../../src/store/keyspace.ts';

export function shardContext(ks: Keyspace): ShardContext {
  return {
    ks,
    req: new RequestView(),
    out: new RespWriter(),
    shardId: 0,
    maxBulkLen: 512 * 1024 * 1024,
    slowlog: new SlowLog(),
    notifyFlags: 0,
    events: [],
    modified,
    propagate,
    propagated: [],
  } as unknown as ShardContext;
}

/** Whether a command exists with a shard handler (types land in other issues). */
export function hasCommand(name: string): boolean {
  return commandByName(name)?.shard !== undefined;
}

/** Execute argv (name first) in db; returns the RESP reply as a latin1 string. */
export function exec(c: ShardContext, db: number, ...argv: (string | Uint8Array)[]): string {
  const spec = commandByName(String(argv[0]));
  if (spec?.shard === undefined) throw new Error(`no shard handler for ${String(argv[0])}`);
  const args = argv.slice(1).map((a) => (typeof a === 'string' ? Buffer.from(a) : Buffer.from(a)));
  const u8 = Buffer.concat(args);
  const v = c.req;
  if (args.length > v.off.length) {
    v.off = new Int32Array(args.length * 2);
    v.len = new Int32Array(args.length * 2);
  }
  let p = 0;
  args.forEach((a, i) => {
    v.off[i] = p;
    v.len[i] = a.length;
    p += a.length;
  });
  v.u8 = u8;
  v.argc = args.length;
  v.db = db;
  v.cmd = spec.index;
  v.flags = 0;
  c.out.reset();
  c.propagated.length = 0;
  spec.shard(c);
  return c.out.buf.toString('latin1', 0, c.out.pos);
}
