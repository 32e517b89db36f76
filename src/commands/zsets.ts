/**
 * The sorted-set command family (TYPE_ZSET): routing for the command table. Handlers live in
 * zsets-write/read/range/pop/algebra; the container in store/types/zset.ts.
 */
import '../store/types/zset.ts';
import type { CommandDef, ShardHandler } from './types.ts';
import { numkeysKeys } from './zsets-common.ts';
import { zsetAlgebraHandlers } from './zsets-algebra.ts';
import { zsetPopHandlers } from './zsets-pop.ts';
import { zsetRangeHandlers } from './zsets-range.ts';
import { zsetReadHandlers } from './zsets-read.ts';
import { zsetWriteHandlers } from './zsets-write.ts';

const handlers: Record<string, ShardHandler> = {
  ...zsetWriteHandlers,
  ...zsetReadHandlers,
  ...zsetRangeHandlers,
  ...zsetPopHandlers,
  ...zsetAlgebraHandlers,
};

/** Commands whose keys interact (possibly across shards), with their movable key positions. */
const MULTI: Record<string, CommandDef['keys'] | null> = {
  zrangestore: null,
  bzpopmin: null,
  bzpopmax: null,
  zunion: numkeysKeys(1, false),
  zinter: numkeysKeys(1, false),
  zdiff: numkeysKeys(1, false),
  zintercard: numkeysKeys(1, false),
  zunionstore: numkeysKeys(2, true),
  zinterstore: numkeysKeys(2, true),
  zdiffstore: numkeysKeys(2, true),
  zmpop: numkeysKeys(1, false),
  bzmpop: numkeysKeys(2, false),
};

export const zsetCommands: CommandDef[] = Object.entries(handlers).map(([name, shard]): CommandDef => {
  const keys = MULTI[name];
  const def: CommandDef =
    keys === undefined ? { name, route: 'key', shard } : { name, route: 'multi', shard };
  if (keys) def.keys = keys;
  // ZRANK/ZREVRANK take Redis 7.2's optional WITHSCORE: the table entry's arity follows 7.2.
  if (name === 'zrank' || name === 'zrevrank') Object.assign(def, { arity: -3 });
  return def;
});
