/**
 * Recovery inside a shard worker, before its loop starts, in parallel with the other shards:
 *   1. checking pass over the WAL of every source (this shard's files, or after a shard-count
 *      change every old shard's), reported to main with the multi-shard groups found;
 *   2. main answers with the groups not every participant logged (never replayed);
 *   3. loading pass: snapshot + WAL replay, expired keys dropped; after a shard-count change a
 *      snapshot in the new layout is written at once (the old files are then removed by main);
 *   4. report, then wait for main's go (it first makes the new boot epoch durable).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import * as P from './status.ts';
import type { ShardPersistence } from './shard-persist.ts';
import { dropExpired, findSource, loadSource, scanSource, slotFilter, type Source } from './recovery.ts';

export function runRecovery(p: ShardPersistence): void {
  const init = p.init;
  const ks = p.ctx.ks;
  const st = p.status;
  st[P.P_LOADING] = 1;
  const t0 = performance.now();
  // Replayed expiries are not new events: notifications and WAL DELs stay off meanwhile.
  const onExpired = ks.onExpired;
  ks.onExpired = null;
  const warnings: string[] = [];
  try {
    const reshard = init.oldShards !== init.shards;
    const sources: Source[] = [];
    if (reshard)
      for (let j = 0; j < init.oldShards; j++) sources.push(findSource(init.dir, j, init.oldShards));
    else sources.push(findSource(init.dir, init.shard, init.shards));
    const scans = sources.map((s) =>
      scanSource(s, { dir: init.dir, own: !reshard, repair: init.repair, warn: (m) => warnings.push(m) }),
    );
    p.post({ t: 'scanned', shard: init.shard, sources: scans, warnings: warnings.splice(0) });
    const skip = new Set(p.waitFor('verdict').skip);
    let expired = 0;
    let commands = 0;
    const keep = reshard ? slotFilter(init.shard, init.shards) : null;
    for (const src of sources) {
      const r = loadSource(src, init.dir, ks, p.ctx, skip, keep);
      expired += r.expired;
      commands += r.commands;
      warnings.push(...r.errors);
    }
    expired += dropExpired(ks);
    let keys = 0;
    for (let db = 0; db < ks.tables.length; db++) keys += ks.keyCount(db);
    st[P.P_LOAD_KEYS] = keys;
    st[P.P_LOAD_EXPIRED] = expired;
    if (reshard) {
      p.snapshots.writeNow();
    } else {
      const src = sources[0]!;
      const last = src.segs[src.segs.length - 1];
      // The next segment follows the last one replayed (or the snapshot that covers them all).
      const seq = last !== undefined ? last.seq + 1 : src.snap !== null ? src.snap.seq : 1;
      let walBytes = 0;
      for (const s of src.segs) walBytes += statSync(path.join(init.dir, s.name)).size;
      st[P.P_WAL_BYTES] = walBytes;
      if (src.snap !== null) st[P.P_BASE_BYTES] = statSync(path.join(init.dir, src.snap.name)).size;
      if (p.logging) {
        p.wal.openSegment(seq);
        st[P.P_FD] = p.wal.fd;
      } else p.wal.seq = seq - 1;
    }
    p.post({
      t: 'loaded',
      shard: init.shard,
      keys,
      expired,
      commands,
      ms: Math.round(performance.now() - t0),
      warnings,
    });
  } catch (err) {
    p.post({ t: 'failed', shard: init.shard, message: (err as Error).message });
  } finally {
    ks.onExpired = onExpired;
  }
  p.waitFor('go');
  st[P.P_LOADING] = 0;
  st[P.P_LAST_SAVE] = Date.now();
  st[P.P_LAST_SAVE_OK] = 1;
  p.snapshots.dirtyAtSave = ks.dirty;
}
