import type { CommandSpec } from '../commands/types.ts';
import { E } from '../protocol/redis-errors.ts';
import { OP_UNWATCH, OP_WATCH } from '../router/control.ts';
import { localWriter } from './combine.ts';
import type { Connection } from './connection.ts';
import type { LocalContext } from './local.ts';
import type { Server } from './server.ts';
import { Session } from './session.ts';

/** A queued command: its arguments copied out of the parser (argv[0] is the name). */
interface Queued {
  argv: Buffer[];
}

/** MULTI state of a connection. */
export interface MultiState {
  queue: Queued[];
  /** A command was rejected while queueing: EXEC answers EXECABORT. */
  aborted: boolean;
}

/** Commands that act at once inside MULTI instead of being queued (Redis processCommand). */
const IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export function queuesInMulti(conn: Connection, spec: CommandSpec): boolean {
  return conn.multi !== null && !IMMEDIATE.has(spec.name.split('|')[0]!);
}

/** Queue the parser's current command; replies +QUEUED. */
export function queueCommand(conn: Connection): void {
  const p = conn.parser;
  const argv: Buffer[] = [];
  for (let i = 0; i < p.argc; i++) argv.push(Buffer.from(p.buf.subarray(p.starts[i]!, p.ends[i]!)));
  conn.multi!.queue.push({ argv });
  const out = localWriter;
  out.reset();
  out.simple('QUEUED');
  conn.reply(conn.takeSeq(), out.buf, 0, out.pos);
}

export function multi(c: LocalContext): void {
  if (c.conn.multi !== null) return c.out.error(E.MULTI_NESTED);
  c.conn.multi = { queue: [], aborted: false };
  c.out.ok();
}

export function discard(c: LocalContext): void {
  if (c.conn.multi === null) return c.out.error(E.DISCARD_WITHOUT_MULTI);
  c.conn.multi = null;
  unwatchAll(c.srv, c.conn);
  c.out.ok();
}

export function watch(c: LocalContext): void {
  if (c.conn.multi !== null) return c.out.error(E.WATCH_IN_MULTI);
  const conn = c.conn;
  const byShard = new Map<number, Buffer[]>();
  for (let i = 0; i < c.argc; i++) {
    const k = c.arg(i);
    const s = c.srv.shards.shardOf(k, 0, k.length);
    if (!byShard.has(s)) byShard.set(s, [Buffer.from(String(conn.id))]);
    byShard.get(s)!.push(Buffer.from(k));
  }
  const reqs = [...byShard].map(([shard, args]) => ({ shard, cmd: OP_WATCH, args }));
  c.gather(reqs, () => Buffer.from('+OK\r\n'));
  if (!c.blocked) for (const s of byShard.keys()) conn.watchShards.add(s);
}

export function unwatch(c: LocalContext): void {
  unwatchAll(c.srv, c.conn);
  c.out.ok();
}

/** Forget the connection's WATCHes in every shard that has some (UNWATCH, DISCARD, disconnect). */
export function unwatchAll(srv: Server, conn: Connection): void {
  if (conn.watchShards.size === 0) return;
  const id = Buffer.from(String(conn.id));
  for (const s of conn.watchShards) unwatchShard(srv, s, id);
  conn.watchShards.clear();
  srv.schedulePublish();
}

/** OP_UNWATCH to one shard, retried while its ring is full (else its watches would stay forever). */
function unwatchShard(srv: Server, shard: number, id: Buffer): void {
  if (srv.coordinator.start([{ shard, db: 0, args: [id] }], 0, OP_UNWATCH, () => {})) return;
  setTimeout(() => {
    unwatchShard(srv, shard, id);
    srv.schedulePublish();
  }, 1);
}

/**
 * EXEC: hold every shard (a session), ask the watched ones whether a WATCHed key changed, then
 * dispatch the queued commands with the shards' frames redirected into the session. Each
 * command takes its own sequence number after the array header's, so the replies, delivered
 * through the usual per-connection ordering, form the EXEC array. The connection is parked
 * meanwhile so its later commands queue behind the transaction.
 */
export function exec(c: LocalContext): void {
  const { conn, srv } = c;
  const state = conn.multi;
  if (state === null) return c.out.error(E.EXEC_WITHOUT_MULTI);
  if (state.aborted) {
    conn.multi = null;
    unwatchAll(srv, conn);
    return c.out.error(E.EXECABORT);
  }
  const watched = conn.watchShards.size > 0 ? conn.id : 0;
  const all = Array.from({ length: srv.shards.count }, (_, i) => i);
  const seq = c.seq;
  const session = Session.open(srv, all, watched, (s, dirty) => void run(srv, conn, s, dirty, state, seq));
  if (session === null) {
    c.blocked = true;
    return;
  }
  conn.multi = null;
  conn.watchShards.clear();
  c.deferred = true;
  srv.park(conn);
}

async function run(
  srv: Server,
  conn: Connection,
  s: Session,
  dirty: boolean,
  state: MultiState,
  seq: number,
): Promise<void> {
  const resp3 = conn.resp3;
  if (dirty || conn.closed) {
    s.end();
    srv.deliver(conn, seq, Buffer.from(resp3 ? '_\r\n' : '*-1\r\n'));
    srv.unpark(conn);
    return;
  }
  srv.deliver(conn, seq, Buffer.from(`*${state.queue.length}\r\n`));
  const real = conn.parser;
  conn.inExec = true;
  try {
    for (const q of state.queue) {
      setParser(conn, argvParser(q.argv));
      srv.activeSession = s;
      try {
        // Collected, not posted: the transaction's frames go out together (one WAL group).
        s.redirect(() => srv.dispatcher.dispatch(conn), false);
      } finally {
        srv.activeSession = null;
        setParser(conn, real);
      }
      if (s.pending !== null) {
        const p = s.pending;
        s.pending = null;
        s.flush();
        await p;
      }
    }
  } finally {
    conn.inExec = false;
    setParser(conn, real);
    s.flush();
    s.end();
    srv.unpark(conn);
  }
}

/** A stand-in for the connection's parser holding one stored command (dispatch reads only these fields). */
export function argvParser(argv: Buffer[]): Connection['parser'] {
  const buf = Buffer.concat(argv);
  const starts = new Int32Array(argv.length);
  const ends = new Int32Array(argv.length);
  let p = 0;
  argv.forEach((a, k) => {
    starts[k] = p;
    p += a.length;
    ends[k] = p;
  });
  return { buf, starts, ends, argc: argv.length } as unknown as Connection['parser'];
}

export function setParser(conn: Connection, p: Connection['parser']): void {
  (conn as { parser: Connection['parser'] }).parser = p;
}
