import { readResp, RespError, type RespValue } from '../protocol/reader.ts';
import type { LocalContext } from '../server/local.ts';
import type { SlowEntry } from '../observability/slowlog.ts';
import type { CommandDef, ShardContext } from './types.ts';

/**
 * SLOWLOG: every shard keeps the slow commands it executed (execution time, as Redis), the
 * main thread keeps its own; SLOWLOG GET gathers them all and merges newest first. Entry ids
 * are made unique across sources as localId × sources + source.
 */

function writeEntries(c: ShardContext, list: SlowEntry[]): void {
  const out = c.out;
  out.arrayHeader(list.length);
  for (const e of list) {
    out.arrayHeader(5);
    out.integer(e.id);
    out.integer(e.time);
    out.integer(e.us);
    out.arrayHeader(e.args.length);
    for (const a of e.args) out.bulkString(a);
    out.integer(e.connId);
  }
}

export const slowlogCommands: CommandDef[] = [
  { name: 'slowlog|get', route: 'local', shard: (c) => writeEntries(c, c.slowlog.get(Number(c.req.str(0)))) },
  { name: 'slowlog|len', route: 'local', shard: (c) => c.out.integer(c.slowlog.length) },
  {
    name: 'slowlog|reset',
    route: 'local',
    shard: (c) => {
      c.slowlog.reset();
      c.out.ok();
    },
  },
  { name: 'slowlog|help', route: 'local' },
];

interface Merged {
  id: number;
  time: number;
  us: number;
  args: string[];
  connId: number;
}

function allShards(c: LocalContext, args: Buffer[]): { shard: number; cmd: number; args: Buffer[] }[] {
  return Array.from({ length: c.srv.shards.count }, (_, shard) => ({ shard, cmd: c.spec.index, args }));
}

function get(c: LocalContext): void {
  let count = 10;
  if (c.argc === 1) {
    const v = c.str(0);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
      return c.out.error('ERR value is not an integer or out of range');
    count = Number(v);
    if (count < -1) return c.out.error('ERR count should be greater than or equal to -1');
  }
  const srv = c.srv;
  const sources = srv.shards.count + 1;
  const mainEntries = srv.slowlog.get(-1);
  const resp3 = c.conn.resp3;
  c.gather(allShards(c, [Buffer.from('-1')]), (parts) => {
    const all: Merged[] = mainEntries.map((e) => ({ ...e, id: e.id * sources + srv.shards.count }));
    parts.forEach((p, shard) => {
      if (p === null) return;
      const v = readResp(p);
      if (!Array.isArray(v)) return;
      for (const e of v as RespValue[][]) {
        all.push({
          id: (e[0] as number) * sources + shard,
          time: e[1] as number,
          us: e[2] as number,
          args: (e[3] as Buffer[]).map((a) => a.toString('latin1')),
          connId: e[4] as number,
        });
      }
    });
    all.sort((a, b) => b.time - a.time || b.id - a.id);
    const list = count === -1 ? all : all.slice(0, count);
    const out = c.out;
    out.reset();
    out.resp3 = resp3;
    out.arrayHeader(list.length);
    for (const e of list) {
      const conn = srv.conns.get(e.connId);
      out.arrayHeader(6);
      out.integer(e.id);
      out.integer(e.time);
      out.integer(e.us);
      out.arrayHeader(e.args.length);
      for (const a of e.args) out.bulk(Buffer.from(a, 'latin1'), 0, Buffer.byteLength(a, 'latin1'));
      out.bulkString(conn ? conn.addr : '');
      out.bulkString(conn ? conn.name : '');
    }
    return out.take();
  });
}

function len(c: LocalContext): void {
  const own = c.srv.slowlog.length;
  c.gather(allShards(c, []), (parts) => {
    let n = own;
    for (const p of parts) if (p !== null) n += Number((readResp(p) as number) || 0);
    return Buffer.from(`:${n}\r\n`);
  });
}

function reset(c: LocalContext): void {
  c.srv.slowlog.reset();
  c.gather(allShards(c, []), (parts) => {
    const err = parts.find((p) => p !== null && readResp(p) instanceof RespError);
    return err ?? Buffer.from('+OK\r\n');
  });
}

const HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
  'HELP',
  '    Prints this help.',
];

export const slowlogHandlers: Record<string, (c: LocalContext) => void> = {
  'slowlog|get': get,
  'slowlog|len': len,
  'slowlog|reset': reset,
  'slowlog|help': (c) => {
    c.out.arrayHeader(HELP.length);
    for (const l of HELP) c.out.simple(l);
  },
};
