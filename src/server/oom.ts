/**
 * The main thread's half of the -OOM rule (the shard half is commands/memory-guard.ts). Each
 * shard publishes in its stats block (ST_OOM) whether it is over its maxmemory share and
 * cannot evict; a denyoom command is refused here, before anything is sent, when
 * - it has one key (route key) and that key's shard is flagged, or
 * - its keys may be split across shards (MSET, MSETNX, SUNIONSTORE…) and any shard is
 *   flagged, so such a command is applied in every shard or in none.
 * Refusing here makes it a rejected call (INFO commandstats) as in Redis. The flag can lag by
 * the frames already in a shard's ring; the shard refuses those itself. Transactions follow
 * Redis: under OOM nothing can be queued in MULTI, and EXEC with a denyoom command queued
 * discards the transaction; the commands of an accepted EXEC are not checked again.
 */
import { TABLE, findCommand } from '../commands/table.ts';
import type { CommandSpec } from '../commands/types.ts';
import { ST_OOM } from '../router/shard-stats.ts';
import type { ShardSet } from '../router/shards.ts';

/** The parsed command (Connection.parser). */
interface Parser {
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
}

let checked: Uint8Array | null = null;

/** denyoom commands executed in shards. */
function checkedTable(): Uint8Array {
  const t = new Uint8Array(TABLE.length);
  for (const spec of TABLE) if (spec.route !== 'local' && spec.flags.includes('denyoom')) t[spec.index] = 1;
  return t;
}

export function oomRefused(shards: ShardSet, spec: CommandSpec, p: Parser, inMulti: boolean): boolean {
  checked ??= checkedTable();
  // Inside MULTI every command but EXEC/DISCARD… is refused under OOM (queueing costs memory),
  // as Redis does; those queue-control commands are never refused here (see execRefused).
  if (inMulti) return !MULTI_CONTROL.has(spec.name) && anyOom(shards);
  if (checked[spec.index] === 0 || !anyOom(shards)) return false;
  if (spec.route !== 'key') return true;
  const k = spec.firstKey;
  return shards.stats(shards.shardOf(p.buf, p.starts[k]!, p.ends[k]!))[ST_OOM] === 1;
}

/** EXEC under OOM with a denyoom command queued: Redis discards the transaction. */
export function execRefused(shards: ShardSet, queued: readonly { argv: Buffer[] }[]): boolean {
  checked ??= checkedTable();
  if (!anyOom(shards)) return false;
  for (const { argv } of queued) {
    let spec = findCommand(argv[0]!, 0, argv[0]!.length);
    if (spec === undefined) continue;
    if (spec.subcommands !== null && argv.length > 1)
      spec = spec.subcommands.get(argv[1]!.toString('latin1').toLowerCase()) ?? spec;
    if (checked[spec.index] === 1) return true;
  }
  return false;
}

const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'unwatch', 'quit', 'reset']);

function anyOom(shards: ShardSet): boolean {
  for (let i = 0; i < shards.count; i++) if (shards.stats(i)[ST_OOM] === 1) return true;
  return false;
}
