import { eventsToFlags } from '../commands/notify-flags.ts';
import type { Connection } from './connection.ts';
import type { Server } from './server.ts';

/**
 * Keeps Pub/Sub in step with the rest of the server: notify-keyspace-events reaches the
 * publisher here and every shard through its control port (the shards queue the events),
 * shard event batches are published, and client-output-buffer-limit changes apply at once.
 */
export function wirePubSub(srv: Server): void {
  const notify = (events: string, toShards: boolean): void => {
    srv.pubsub.notifyFlags = eventsToFlags(events);
    if (toShards) srv.shards.broadcast({ type: 'config', name: 'notify-keyspace-events', value: events });
  };
  const initial = srv.config.get('notify-keyspace-events');
  notify(initial, initial !== '');
  srv.config.onChange((name, value) => {
    if (name === 'notify-keyspace-events') notify(value as string, true);
    else if (name === 'client-output-buffer-limit') srv.outputLimits.set(value as string);
  });
  srv.shards.onEvents = (events) => srv.pubsub.keyspaceEvents(events);
}

/**
 * Disconnects `conn` when its pending output broke client-output-buffer-limit (Redis
 * closeClientOnOutputBufferLimitReached: no reply is flushed, the client is freed at once).
 */
export function enforceOutputLimit(srv: Server, conn: Connection): boolean {
  if (conn.closed || !srv.outputLimits.exceeded(conn)) return false;
  srv.outputLimits.disconnections++;
  srv.log.warn(
    { client: conn.id, addr: conn.addr, omem: conn.outputBytes(), pubsub: conn.subscribed },
    'client closed for overcoming of output buffer limits',
  );
  srv.pubsub.removeClient(conn);
  conn.closed = true;
  conn.socket.destroy();
  return true;
}
