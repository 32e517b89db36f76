import catalogJson from './catalog.json' with { type: 'json' };
import { bitmapCommands } from './bitmaps.ts';
import { counterCommands } from './counters.ts';
import { debugCommands } from './debug.ts';
import { hashCommands } from './hashes.ts';
import { hyperloglogCommands } from './hyperloglog.ts';
import { keyCommands } from './keys.ts';
import { listCommands } from './lists.ts';
import { listMoveCommands } from './list-moves.ts';
import { memoryCommands } from './memory.ts';
import { setCommands } from './sets.ts';
import { sortCommands } from './sort.ts';
import { stringCommands } from './strings.ts';
import { slowlogCommands } from './slowlog.ts';
import { zsetCommands } from './zsets.ts';
import { persistenceCommands } from './persistence.ts';
import type { CatalogEntry, CommandDef, CommandSpec } from './types.ts';

/**
 * The command table: Redis's metadata for each command (catalog.json, generated from a real
 * redis-server) joined with Tessera's routing and shard handlers from the family files.
 * Main-thread handlers are attached by the server at startup (attachLocal), so shard workers
 * load this table without pulling in main-thread code. A command's index is the opcode that
 * ring frames carry; both threads build the same table in the same order.
 */

const catalog = catalogJson as unknown as Record<string, CatalogEntry>;

/** Commands executed on the main thread (handlers attached by src/server). */
const LOCAL_COMMANDS = [
  'ping',
  'echo',
  'quit',
  'reset',
  'hello',
  'auth',
  'select',
  'client',
  'client|id',
  'client|setname',
  'client|getname',
  'client|list',
  'client|info',
  'client|kill',
  'info',
  'time',
  'command',
  'command|count',
  'command|info',
  'command|docs',
  'command|getkeys',
  'command|list',
  'config',
  'config|get',
  'config|set',
  'config|resetstat',
  'shutdown',
  'object',
  'object|help',
  'config|rewrite',
  'config|help',
  'command|help',
  'client|help',
  'client|pause',
  'client|unpause',
  'monitor',
  'slowlog',
  'latency',
  'latency|latest',
  'latency|history',
  'latency|reset',
  'latency|histogram',
  'latency|help',
  'latency|doctor',
  'memory',
  'memory|help',
  'stats',
  // Pub/Sub: all subscribers are connections on the main thread (commands/pubsub.ts).
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
  'publish',
  'spublish',
  'pubsub',
  'pubsub|channels',
  'pubsub|numsub',
  'pubsub|numpat',
  'pubsub|shardchannels',
  'pubsub|shardnumsub',
  'pubsub|help',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'client|unblock',
];

const defs: CommandDef[] = [
  ...stringCommands,
  ...counterCommands,
  ...keyCommands,
  ...memoryCommands,
  ...debugCommands,
  ...slowlogCommands,
  ...zsetCommands,
  ...persistenceCommands,
  ...hashCommands,
  ...setCommands,
  ...bitmapCommands,
  ...hyperloglogCommands,
  ...sortCommands,
  ...listCommands,
  ...listMoveCommands,
  ...LOCAL_COMMANDS.map((name): CommandDef => ({ name, route: 'local' })),
];

export const TABLE: CommandSpec[] = [];
const topLevel = new Map<string, CommandSpec>();

for (const def of defs) {
  const meta = catalog[def.name];
  if (!meta) throw new Error(`command ${def.name} missing from catalog.json`);
  const spec: CommandSpec = {
    ...meta,
    ...def,
    index: TABLE.length,
    upper: Buffer.from(def.name.split('|').pop()!.toUpperCase()),
    readonly: meta.flags.includes('readonly'),
    write: meta.flags.includes('write'),
    blocking: meta.flags.includes('blocking'),
    noAuth: meta.flags.includes('no_auth'),
    subcommands: null,
  };
  TABLE.push(spec);
}
for (const spec of TABLE) {
  const [parent, sub] = spec.name.split('|');
  if (sub === undefined) topLevel.set(parent!, spec);
}
for (const spec of TABLE) {
  const [parent, sub] = spec.name.split('|');
  if (sub === undefined) continue;
  const p = topLevel.get(parent!);
  if (!p) throw new Error(`subcommand ${spec.name} without parent`);
  (p.subcommands ??= new Map()).set(sub, spec);
}

// Lookup by bytes without building a string: hash of the lower-cased name → candidates.
const byHash = new Map<number, CommandSpec[]>();
function nameHash(u8: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) {
    const c = u8[i]!;
    h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
  }
  return h;
}
for (const [name, spec] of topLevel) {
  const b = Buffer.from(name);
  const h = nameHash(b, 0, b.length);
  const list = byHash.get(h);
  if (list) list.push(spec);
  else byHash.set(h, [spec]);
}

/** The top-level command named by u8[s..e), case-insensitive, or undefined. */
export function findCommand(u8: Uint8Array, s: number, e: number): CommandSpec | undefined {
  const list = byHash.get(nameHash(u8, s, e));
  if (list === undefined) return undefined;
  outer: for (const spec of list) {
    const up = spec.upper;
    if (up.length !== e - s) continue;
    for (let i = 0; i < up.length; i++) {
      const c = u8[s + i]!;
      if ((c >= 97 && c <= 122 ? c - 32 : c) !== up[i]) continue outer;
    }
    return spec;
  }
  return undefined;
}

export function commandByName(name: string): CommandSpec | undefined {
  const [parent, sub] = name.toLowerCase().split('|');
  const p = topLevel.get(parent!);
  if (!p || sub === undefined) return p;
  return p.subcommands?.get(sub);
}

export function topLevelCommands(): IterableIterator<CommandSpec> {
  return topLevel.values();
}
