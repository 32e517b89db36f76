/**
 * The main thread's half of the -OOM rule (the shard half is commands/memory-guard.ts). Each
 * shard publishes in its stats block (ST_OOM) whether it is over its maxmemory share and
 * cannot evict; a denyoom command is refused here, before anything is sent, when
 * - it has one key (route key) and that key's shard is flagged, or
 * - its keys may be split across shards (MSET, MSETNX, SUNIONSTORE…) and any shard is
 *   flagged, so such a command is applied in every shard or in none.
 * Refusing here makes it a rejected call (INFO commandstats) as in Redis. The flag can lag by
 * the frames already in a shard's ring; the shard refuses those itself.
 */
import { TABLE } from '../commands/table.ts';
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

export function oomRefused(shards: ShardSet, spec: CommandSpec, p: Parser): boolean {
  checked ??= checkedTable();
  if (checked[spec.index] === 0) return false;
  let any = false;
  for (let i = 0; i < shards.count && !any; i++) any = shards.stats(i)[ST_OOM] === 1;
  if (!any) return false;
  if (spec.route !== 'key') return true;
  const k = spec.firstKey;
  return shards.stats(shards.shardOf(p.buf, p.starts[k]!, p.ends[k]!))[ST_OOM] === 1;
}
