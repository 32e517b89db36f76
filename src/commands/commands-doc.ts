import { attachLocalCommands } from './local-commands.ts';
import { topLevelCommands } from './table.ts';
import type { CommandSpec } from './types.ts';

/** Group → the ACL category that puts a command in it (first match wins). */
const GROUPS: [string, string][] = [
  ['string', '@string'],
  ['bitmap', '@bitmap'],
  ['hyperloglog', '@hyperloglog'],
  ['list', '@list'],
  ['set', '@set'],
  ['sorted set', '@sortedset'],
  ['hash', '@hash'],
  ['pub/sub', '@pubsub'],
  ['transactions', '@transaction'],
  ['connection', '@connection'],
  ['generic', '@keyspace'],
  ['server', '@admin'],
  ['server', '@dangerous'],
];

function groupOf(spec: CommandSpec): string {
  for (const [g, cat] of GROUPS) if (spec.categories.includes(cat)) return g;
  return 'server';
}

/** A command with the subcommands that have a handler (local) or a shard handler. */
function label(spec: CommandSpec): string {
  if (spec.subcommands === null) return spec.name.toUpperCase();
  const subs = [...spec.subcommands.values()]
    .filter((s) => s.local !== undefined || s.shard !== undefined)
    .map((s) => s.name.split('|')[1]!.toUpperCase())
    .sort();
  return `${spec.name.toUpperCase()} (${subs.join(' ')})`;
}

/** The markdown table of every implemented command (those with a handler). */
export function commandsTable(): string {
  attachLocalCommands();
  const rows = new Map<string, string[]>();
  for (const spec of topLevelCommands()) {
    const implemented =
      spec.local !== undefined ||
      spec.shard !== undefined ||
      (spec.subcommands !== null &&
        [...spec.subcommands.values()].some((s) => s.local !== undefined || s.shard !== undefined));
    if (!implemented) continue;
    const g = groupOf(spec);
    if (!rows.has(g)) rows.set(g, []);
    rows.get(g)!.push(label(spec));
  }
  let out = '| group | commands |\n|---|---|\n';
  const order = [...new Set(GROUPS.map(([g]) => g))];
  for (const g of order) {
    const list = rows.get(g);
    if (list !== undefined) out += `| ${g} | ${list.sort().join(', ')} |\n`;
  }
  return out;
}
