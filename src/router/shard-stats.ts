/**
 * Per-shard figures the worker publishes in a Float64Array over a SharedArrayBuffer and the
 * main thread reads for INFO / STATS / metrics: no message per read, no cost on the hot path
 * beyond a few stores per batch.
 */
export const ST_KEYS = 0;
export const ST_EXPIRES = 1;
export const ST_MEMORY = 2;
export const ST_OPS = 3;
export const ST_HITS = 4;
export const ST_MISSES = 5;
export const ST_EXPIRED = 6;
export const ST_HEARTBEAT = 7;
export const ST_ARENA_USED = 8;
export const ST_INDEX_BYTES = 9;
export const ST_HEAP = 10;
/** Keys evicted to respect maxmemory (commands/memory-guard.ts). */
export const ST_EVICTED = 11;
/** 1 while the shard is over its maxmemory share and cannot evict: denyoom commands fail. */
export const ST_OOM = 12;
/** Bytes the shard holds for data: arena pages (empty pooled ones too), index, object values. */
export const ST_HELD = 13;
const FIXED = 16;

export function statsSlots(databases: number): number {
  return FIXED + 2 * databases;
}
export function dbKeysSlot(db: number): number {
  return FIXED + 2 * db;
}
export function dbExpiresSlot(db: number): number {
  return FIXED + 2 * db + 1;
}
