/**
 * maxmemory in a shard: its share of the limit, eviction before commands (Redis's
 * performEvictions in processCommand), the -OOM refusal, lazy freeing and compaction in the
 * loop, and the figures the main thread reads (evicted keys, the OOM flag).
 *
 * Where a command is refused: on the main thread, from the OOM flag each shard publishes
 * (server/oom.ts), so a command split across shards (MSET…) is applied everywhere or nowhere.
 * The flag trails the frames already queued in the ring: of those, a frame holding a whole
 * command (route key, multi, cross) is refused here against this shard's exact usage, while
 * parts of split commands run (a bounded overshoot rather than half an MSET).
 */
import { E } from '../protocol/redis-errors.ts';
import * as S from '../router/shard-stats.ts';
import { PAGE_BYTES, droppedArena } from '../store/arena.ts';
import { EVICT_FAIL, EVICT_OK, EVICT_RUNNING, Evictor, type PolicyName } from '../store/evict.ts';
import { memoryConfig } from '../store/memory-config.ts';
import { dropped } from '../store/keytable.ts';
import { compactStep } from '../store/reclaim.ts';
import { NOTIFY_EVICTED } from './notify-flags.ts';
import { TABLE } from './table.ts';
import type { ShardContext } from './types.ts';

/** Redis's default maxmemory-eviction-tenacity (10) gives 500 µs per eviction call. */
const EVICT_BUDGET_MS = 0.5;
const IDLE_BUDGET_MS = 2;
/** Main-loop slices of lazy freeing and compaction while requests keep coming. */
const BUSY_BUDGET_MS = 0.2;
const BUSY_GC_BYTES = 16 * 1024 * 1024;
const collect = (globalThis as { gc?: () => void }).gc;

/** Per opcode: denyoom and always executed whole by one shard (see the module comment). */
let refusable: Uint8Array | null = null;
function refusableTable(): Uint8Array {
  const t = new Uint8Array(TABLE.length);
  for (const spec of TABLE) {
    const whole = spec.route === 'key' || spec.route === 'multi' || spec.route === 'cross';
    if (whole && spec.flags.includes('denyoom')) t[spec.index] = 1;
  }
  return t;
}

export class MemoryGuard {
  readonly evictor: Evictor;
  /** Off while a session's frames run (EXEC): those were accepted whole by the main thread. */
  refusing = true;
  private readonly ctx: ShardContext;
  private readonly stats: Float64Array;
  private oom = false;
  /** Free page bytes when compaction last found nothing to do (retry after a page more). */
  private compactIdleAt = -1;

  constructor(ctx: ShardContext, stats: Float64Array) {
    this.ctx = ctx;
    this.stats = stats;
    this.evictor = new Evictor(ctx.ks, (h, db) => this.evictKey(h, db));
  }

  /** Apply a config message; false when the parameter is not a memory one. */
  configure(name: string, value: unknown): boolean {
    const ev = this.evictor;
    switch (name) {
      case 'maxmemory':
        ev.limit = value as number; // already this shard's share (server.ts splits it)
        break;
      case 'maxmemory-policy':
        ev.setPolicy(value as PolicyName);
        break;
      case 'maxmemory-samples':
        ev.setSamples(value as number);
        break;
      case 'lfu-log-factor':
        this.ctx.ks.lfuLogFactor = value as number;
        break;
      case 'lfu-decay-time':
        this.ctx.ks.lfuDecayTime = value as number;
        break;
      case 'lazyfree-lazy-user-flush':
        memoryConfig.lazyUserFlush = value as boolean;
        break;
      default:
        return false;
    }
    return true;
  }

  /**
   * Before each command: evict if over the limit; refuse a denyoom command (writing the
   * -OOM reply) when nothing more can be evicted. Returns false when refused.
   */
  admit(cmd: number): boolean {
    const ev = this.evictor;
    if (ev.limit === 0) return true;
    const ks = this.ctx.ks;
    if (ks.memoryBytes() > ev.limit) {
      this.setOom(this.evict(EVICT_BUDGET_MS) === EVICT_FAIL);
    } else if (this.oom) this.setOom(false);
    if (ks.arena.freeBytes > this.slack()) this.compact(64);
    if (!this.oom || !this.refusing || cmd >= TABLE.length) return true;
    refusable ??= refusableTable();
    if (refusable[cmd] === 0) return true;
    this.ctx.out.error(E.OOM);
    return false;
  }

  /**
   * Once per loop turn: lazy freeing, eviction (after CONFIG SET maxmemory lowered the limit)
   * and compaction, in slices. Returns true while work remains (the loop then does not sleep).
   */
  tick(idle: boolean): boolean {
    const ks = this.ctx.ks;
    const budget = idle ? IDLE_BUDGET_MS : BUSY_BUDGET_MS;
    const deadline = performance.now() + budget;
    let more = false;
    while (ks.lazyFreePending && ks.freeDetachedStep(1024)) {
      if (performance.now() >= deadline) {
        more = true;
        break;
      }
    }
    const ev = this.evictor;
    if (ev.limit === 0) return more;
    const r = this.evict(budget);
    this.setOom(r === EVICT_FAIL);
    if (r === EVICT_RUNNING) more = true;
    if (idle && ks.arena.freeBytes > this.slack()) {
      while (this.compact(256)) {
        if (performance.now() >= deadline) {
          more = true;
          break;
        }
      }
    }
    // At the limit under load the shard never idles, so its idle-time GC (workers/shard.ts)
    // never runs: dropped pages and index tables would wait for V8's own heuristics, which
    // let tens of MB pile up outside the heap. Collect once enough is waiting.
    if (!idle && collect !== undefined && dropped.bytes + droppedArena.bytes > BUSY_GC_BYTES) {
      dropped.bytes = 0;
      droppedArena.bytes = 0;
      collect();
    }
    return more;
  }

  /** Figures for INFO / metrics (called with the shard's other stats). */
  publish(): void {
    const ks = this.ctx.ks;
    this.stats[S.ST_EVICTED] = ks.evictedKeys;
    this.stats[S.ST_HELD] = ks.heldBytes();
    // A shard that went quiet over its limit (noeviction) keeps its flag; one that dropped
    // under (DEL, FLUSHDB, expiry) clears it here without waiting for a command.
    if (this.oom && ks.memoryBytes() <= this.evictor.limit) this.setOom(false);
    if (this.evictor.limit === 0 && this.oom) this.setOom(false);
  }

  /** Bytes of free arena page memory tolerated before compaction starts. */
  private slack(): number {
    return Math.max(4 * PAGE_BYTES, this.evictor.limit / 16);
  }

  private compact(budget: number): boolean {
    const arena = this.ctx.ks.arena;
    if (
      arena.compactionPage === 0 &&
      this.compactIdleAt >= 0 &&
      arena.freeBytes < this.compactIdleAt + PAGE_BYTES
    )
      return false;
    const more = compactStep(this.ctx.ks, budget);
    this.compactIdleAt = more ? -1 : arena.freeBytes;
    return more;
  }

  private evict(budgetMs: number): number {
    const ks = this.ctx.ks;
    if (ks.memoryBytes() <= this.evictor.limit) return EVICT_OK;
    // Evictions are not writes of the command about to run (Redis does not count them in
    // dirty either; the WAL records them through Keyspace.onEvicted).
    const dirty = ks.dirty;
    const r = this.evictor.perform(performance.now() + budgetMs);
    ks.dirty = dirty;
    return r;
  }

  private setOom(oom: boolean): void {
    if (oom === this.oom) return;
    this.oom = oom;
    this.stats[S.ST_OOM] = oom ? 1 : 0;
  }

  /** Redis order: keyspace notification (and WATCH / blocked-client signals) while the key exists, then removal. */
  private evictKey(h: number, db: number): void {
    const ctx = this.ctx;
    ctx.modified(h, NOTIFY_EVICTED, 'evicted', db);
    if (ctx.ks.locate(h) !== db) return;
    ctx.ks.evictFound(h, db);
  }
}

/** What each shard gets for a memory parameter: maxmemory is split evenly across shards. */
export function shardValue(name: string, value: unknown, shards: number): unknown {
  if (name !== 'maxmemory' || value === 0) return value;
  return Math.max(1, Math.floor((value as number) / shards)); // 0 would mean "no limit"
}

/** Parameters the shards apply through MemoryGuard.configure. */
export const MEMORY_PARAMS = [
  'maxmemory',
  'maxmemory-policy',
  'maxmemory-samples',
  'lfu-log-factor',
  'lfu-decay-time',
  'lazyfree-lazy-user-flush',
] as const;
