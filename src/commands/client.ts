import { E } from '../protocol/redis-errors.ts';
import type { Connection } from '../server/connection.ts';
import type { LocalContext } from '../server/local.ts';
import { BAD_NAME, validName } from './connection.ts';

/** CLIENT subcommands (main thread). */

/** One CLIENT LIST line with Redis 7.0's fields, in its order. */
export function clientLine(conn: Connection, now: number): string {
  const qbuf = conn.parser.bufferedBytes();
  const omem = conn.outputBytes();
  const subs = conn.subs;
  return (
    `id=${conn.id} addr=${conn.addr} laddr=${conn.laddr} fd=${(conn.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1}` +
    ` name=${conn.name} age=${Math.floor((now - conn.createdAt) / 1000)} idle=${Math.floor((now - conn.lastInteraction) / 1000)}` +
    ` flags=${clientFlags(conn)} db=${conn.db} sub=${subs?.channels.size ?? 0} psub=${subs?.patterns.size ?? 0} ssub=${subs?.shard.size ?? 0} multi=${conn.multi === null ? -1 : conn.multi.queue.length} qbuf=${qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0` +
    ` obl=0 oll=0 omem=${omem} tot-mem=${omem + qbuf} events=r cmd=${conn.lastCommand} user=default redir=-1 resp=${conn.resp3 ? 3 : 2}\n`
  );
}

/** Redis's flag letters that apply: x in MULTI, b blocked, N none. */
function clientFlags(conn: Connection): string {
  let f = '';
  if (conn.subscribed) f += 'P';
  if (conn.multi !== null) f += 'x';
  if (conn.parked && !conn.inExec && conn.multi === null) f += 'b';
  return f === '' ? 'N' : f;
}

/** Redis getClientType: pubsub while subscribed, else normal (no replicas or masters yet). */
function clientType(conn: Connection): string {
  return conn.subscribed ? 'pubsub' : 'normal';
}

function list(c: LocalContext): void {
  let ids: Set<number> | null = null;
  let type: string | null = null;
  for (let j = 0; j < c.argc; j++) {
    if (c.is(j, 'TYPE') && j + 1 < c.argc) {
      const t = c.str(++j).toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t))
        return c.out.error(`ERR Unknown client type '${t}'`);
      type = t === 'replica' ? 'slave' : t;
    } else if (c.is(j, 'ID') && j + 1 < c.argc) {
      ids ??= new Set();
      for (j++; j < c.argc; j++) {
        const v = c.str(j);
        if (!/^[1-9]\d*$/.test(v)) return c.out.error('ERR Invalid client ID');
        ids.add(Number(v));
      }
    } else return c.out.error(E.SYNTAX);
  }
  const now = Date.now();
  let s = '';
  for (const conn of c.srv.conns.values()) {
    if ((ids === null || ids.has(conn.id)) && (type === null || clientType(conn) === type))
      s += clientLine(conn, now);
  }
  c.out.verbatim(s);
}

function info(c: LocalContext): void {
  c.out.verbatim(clientLine(c.conn, Date.now()));
}

function kill(c: LocalContext): void {
  const srv = c.srv;
  if (c.argc === 1) {
    const addr = c.str(0);
    for (const conn of srv.conns.values()) {
      if (conn.addr === addr) {
        srv.closeAfterReply(conn);
        if (conn !== c.conn) conn.socket.destroy();
        return c.out.ok();
      }
    }
    return c.out.error('ERR No such client');
  }
  const filters: ((x: Connection) => boolean)[] = [];
  let skipme = true;
  for (let j = 0; j < c.argc; j++) {
    if (j + 1 >= c.argc) return c.out.error(E.SYNTAX);
    const v = c.str(j + 1);
    if (c.is(j, 'ID')) {
      if (!/^[1-9]\d*$/.test(v)) return c.out.error('ERR client-id should be greater than 0');
      filters.push((x) => x.id === Number(v));
    } else if (c.is(j, 'ADDR')) filters.push((x) => x.addr === v);
    else if (c.is(j, 'LADDR')) filters.push((x) => x.laddr === v);
    else if (c.is(j, 'USER')) {
      // "default" is the only user until ACLs exist; Redis rejects unknown users.
      if (v !== 'default') return c.out.error(`ERR No such user '${v}'`);
    } else if (c.is(j, 'TYPE')) {
      const t = v.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t))
        return c.out.error(`ERR Unknown client type '${v}'`);
      filters.push((x) => clientType(x) === t);
    } else if (c.is(j, 'SKIPME')) {
      if (v.toLowerCase() === 'yes') skipme = true;
      else if (v.toLowerCase() === 'no') skipme = false;
      else return c.out.error(E.SYNTAX);
    } else if (c.is(j, 'MAXAGE')) {
      if (!/^\d+$/.test(v)) return c.out.error(E.NOT_INTEGER);
      const now = Date.now();
      filters.push((x) => (now - x.createdAt) / 1000 >= Number(v));
    } else return c.out.error(E.SYNTAX);
    j++;
  }
  let n = 0;
  for (const conn of [...srv.conns.values()]) {
    if (skipme && conn === c.conn) continue;
    if (!filters.every((f) => f(conn))) continue;
    n++;
    if (conn === c.conn) srv.closeAfterReply(conn);
    else conn.socket.destroy();
  }
  c.out.integer(n);
}

export const clientHandlers: Record<string, (c: LocalContext) => void> = {
  'client|id': (c) => c.out.integer(c.conn.id),
  'client|getname': (c) => (c.conn.name === '' ? c.out.nullBulk() : c.out.bulkString(c.conn.name)),
  'client|setname': (c) => {
    const name = c.str(0);
    if (!validName(name)) return c.out.error(BAD_NAME);
    c.conn.name = name;
    c.out.ok();
  },
  'client|list': list,
  'client|info': info,
  'client|kill': kill,
  'client|unblock': unblock,
};

/** CLIENT UNBLOCK id [TIMEOUT|ERROR]. */
function unblock(c: LocalContext): void {
  const id = Number(c.str(0));
  if (!/^-?\d+$/.test(c.str(0)) || !Number.isSafeInteger(id)) return c.out.error(E.NOT_INTEGER);
  let error = false;
  if (c.argc === 2) {
    if (c.is(1, 'ERROR')) error = true;
    else if (!c.is(1, 'TIMEOUT')) return c.out.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
  } else if (c.argc > 2) return c.out.error(E.SYNTAX);
  const target = c.srv.conns.get(id);
  c.out.integer(target !== undefined && c.srv.blocking.unblock(target, error) ? 1 : 0);
}
