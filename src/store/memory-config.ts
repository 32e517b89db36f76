/**
 * A shard's memory settings that command handlers consult (the eviction settings live in the
 * Evictor). Set from CONFIG through the shard's control port (commands/memory-guard.ts).
 */
export const memoryConfig = {
  /** lazyfree-lazy-user-flush: FLUSHDB / FLUSHALL without SYNC or ASYNC free lazily. */
  lazyUserFlush: false,
};
