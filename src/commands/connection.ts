import { E } from '../protocol/redis-errors.ts';
import type { Connection } from '../server/connection.ts';
import type { LocalContext } from '../server/local.ts';
import type { Server } from '../server/server.ts';
import { unwatchAll } from '../server/transaction.ts';
import { REDIS_VERSION } from '../version.ts';

/** Connection family, executed on the main thread. */

function ping(c: LocalContext): void {
  if (c.argc > 1) return c.out.error(`ERR wrong number of arguments for 'ping' command`);
  if (c.conn.subscribed && !c.conn.resp3) {
    // Subscribed RESP2 clients read arrays only: Redis answers ["pong", <argument or "">].
    c.out.arrayHeader(2);
    c.out.bulkString('pong');
    if (c.argc === 1) c.out.bulk(c.arg(0), 0, c.arg(0).length);
    else c.out.bulkString('');
    return;
  }
  if (c.argc === 1) return c.out.bulk(c.arg(0), 0, c.arg(0).length);
  c.out.simple('PONG');
}

function echo(c: LocalContext): void {
  const a = c.arg(0);
  c.out.bulk(a, 0, a.length);
}

function quit(c: LocalContext): void {
  c.out.ok();
  c.srv.closeAfterReply(c.conn);
}

function reset(c: LocalContext): void {
  const conn = c.conn;
  // Redis clearClientConnectionState: an open transaction is discarded and WATCHes forgotten.
  conn.multi = null;
  unwatchAll(c.srv, conn);
  c.srv.pubsub.removeClient(conn);
  conn.db = 0;
  conn.resp3 = false;
  conn.name = '';
  const open = c.srv.config.get('requirepass') === '';
  conn.authenticated = open;
  conn.parser.authenticated = open;
  c.out.resp3 = false;
  c.out.simple('RESET');
}

/** Checks a password for `user` ("default" is the only user until ACLs exist). */
function checkAuth(srv: Server, user: string, pass: string): boolean {
  if (user !== 'default') return false;
  const required = srv.config.get('requirepass');
  return required === '' || timingSafeEqualStr(pass, required);
}

function timingSafeEqualStr(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function setAuthenticated(conn: Connection): void {
  conn.authenticated = true;
  conn.parser.authenticated = true;
}

function auth(c: LocalContext): void {
  if (c.argc > 2) return c.out.error(E.SYNTAX);
  const user = c.argc === 2 ? c.str(0) : 'default';
  const pass = c.str(c.argc - 1);
  if (c.argc === 1 && c.srv.config.get('requirepass') === '') return c.out.error(E.AUTH_NOT_CONFIGURED);
  if (!checkAuth(c.srv, user, pass)) return c.out.error(E.WRONGPASS);
  setAuthenticated(c.conn);
  c.out.ok();
}

function hello(c: LocalContext): void {
  const conn = c.conn;
  let proto = conn.resp3 ? 3 : 2;
  let j = 0;
  if (c.argc >= 1) {
    const v = c.str(0);
    if (!/^-?\d+$/.test(v)) return c.out.error('ERR Protocol version is not an integer or out of range');
    proto = Number(v);
    if (proto < 2 || proto > 3) return c.out.error(E.NOPROTO);
    j = 1;
  }
  let name: string | null = null;
  for (; j < c.argc; j++) {
    const more = c.argc - j - 1;
    if (c.is(j, 'AUTH') && more >= 2) {
      if (!checkAuth(c.srv, c.str(j + 1), c.str(j + 2))) return c.out.error(E.WRONGPASS);
      setAuthenticated(conn);
      j += 2;
    } else if (c.is(j, 'SETNAME') && more >= 1) {
      name = c.str(j + 1);
      if (!validName(name)) return c.out.error(BAD_NAME);
      j += 1;
    } else return c.out.error(`ERR Syntax error in HELLO option '${c.str(j)}'`);
  }
  if (!conn.authenticated) {
    return c.out.error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (name !== null) conn.name = name;
  conn.resp3 = proto === 3;
  const out = c.out;
  out.resp3 = conn.resp3;
  out.mapHeader(7);
  out.bulkString('server');
  out.bulkString('redis');
  out.bulkString('version');
  out.bulkString(REDIS_VERSION);
  out.bulkString('proto');
  out.integer(proto);
  out.bulkString('id');
  out.integer(conn.id);
  out.bulkString('mode');
  out.bulkString('standalone');
  out.bulkString('role');
  out.bulkString('master');
  out.bulkString('modules');
  out.arrayHeader(0);
}

function select(c: LocalContext): void {
  const v = c.str(0);
  if (!/^-?(0|[1-9]\d*)$/.test(v) || Math.abs(Number(v)) > 2147483647) return c.out.error(E.NOT_INTEGER);
  const db = Number(v);
  if (db < 0 || db >= c.srv.config.get('databases')) return c.out.error(E.DB_RANGE);
  c.conn.db = db;
  c.out.ok();
}

const BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';
function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

export const connectionHandlers: Record<string, (c: LocalContext) => void> = {
  ping,
  echo,
  quit,
  reset,
  auth,
  hello,
  select,
};
export { validName, BAD_NAME };
