import { adminHandlers } from './admin.ts';
import { clientHandlers } from './client.ts';
import { connectionHandlers } from './connection.ts';
import { debugHandlers } from './debug.ts';
import { introspectionHandlers } from './introspection.ts';
import { latencyHandlers } from './latency.ts';
import { memoryHandlers } from './memory.ts';
import { serverHandlers } from './server.ts';
import { slowlogHandlers } from './slowlog.ts';
import { persistenceHandlers } from './persistence.ts';
import { monitorHandlers } from './monitor.ts';
import { pubsubHandlers } from './pubsub.ts';
import { commandByName } from './table.ts';
import { discard, exec, multi, unwatch, watch } from '../server/transaction.ts';

/**
 * Attaches main-thread handlers to the command table. Kept out of table.ts so shard workers
 * never load main-thread code. A route:'local' command left without a handler answers with
 * the unknown-command error rather than pretending to work.
 */
export function attachLocalCommands(): void {
  const all = {
    ...connectionHandlers,
    ...clientHandlers,
    ...introspectionHandlers,
    ...serverHandlers,
    ...slowlogHandlers,
    ...persistenceHandlers,
    ...latencyHandlers,
    ...memoryHandlers,
    ...debugHandlers,
    ...monitorHandlers,
    ...pubsubHandlers,
    ...adminHandlers,
    multi,
    exec,
    discard,
    watch,
    unwatch,
  };
  for (const [name, fn] of Object.entries(all)) {
    const spec = commandByName(name);
    if (!spec) throw new Error(`no table entry for local command ${name}`);
    spec.local = fn;
  }
}
