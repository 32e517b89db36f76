import type { CommandSpec } from '../commands/types.ts';
import type { Connection } from './connection.ts';
import type { Dispatcher } from './dispatch.ts';
import type { Server } from './server.ts';

/** Placeholder until the session-based executor lands: keys in several shards are refused. */
export function crossExec(
  srv: Server,
  d: Dispatcher,
  conn: Connection,
  spec: CommandSpec,
  base: number,
  keys: number[],
): boolean {
  void srv;
  void base;
  void keys;
  return d.fail(conn, `ERR '${spec.name}' across shards is not supported yet`);
}
