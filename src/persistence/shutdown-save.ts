/**
 * Snapshots at a clean shutdown (SIGTERM, SIGINT, SHUTDOWN [SAVE]; not SHUTDOWN NOSAVE, not a
 * crash), so that the next start loads a snapshot instead of replaying a long WAL.
 *
 * After the shard's last command, synchronously, before the shard exits:
 * - a snapshot still running is finished here and committed (rename, directory fsync, covered
 *   WAL segments deleted), as it would have been while serving;
 * - a new snapshot is taken when the WAL since the last snapshot is worth it (see
 *   planShutdown): then the restart loads it and replays nothing;
 * - all of it within `deadline` (the shutdown's overall limit): a snapshot not done by then is
 *   dropped — the WAL still holds every write, only the restart is slower.
 * The shard logs what it did and how long it took.
 */
import type { ShardPersistence } from './shard-persist.ts';
import * as P from './status.ts';

/** SHUTDOWN's save option: NOSAVE, SAVE, or neither (also SIGTERM/SIGINT). */
export type ShutdownSave = 'default' | 'save' | 'nosave';

/**
 * Smallest WAL (since the last snapshot) worth a snapshot at shutdown: below it the replay
 * takes a few tens of ms (measured ~17 ms per MB of SETs/HSETs: bench/snapshot-vs-replay.ts).
 */
export const SHUTDOWN_SNAPSHOT_MIN_WAL = 1 << 20;

export type ShutdownPlan = 'none' | 'finish' | 'fresh' | 'abort';

export interface ShutdownState {
  mode: ShutdownSave;
  /** appendonly yes. */
  logging: boolean;
  /** auto-aof-rewrite-percentage (0: no automatic snapshots, at shutdown neither). */
  autoPct: number;
  /** A snapshot is running. */
  running: boolean;
  /** WAL bytes a restart would replay after it: since the running snapshot, else the last one. */
  tail: number;
  /** Expected snapshot size: the running one's, else the last one's (0 when there is none). */
  size: number;
}

/**
 * - NOSAVE: as before — a running snapshot is dropped, nothing new is written.
 * - SAVE: the state at shutdown goes into a snapshot (Redis's SHUTDOWN SAVE): a running one is
 *   finished when nothing was logged since it started, else replaced by a fresh one.
 * - neither: a running snapshot is finished; a fresh one (instead) when the WAL a restart would
 *   replay is at least 1 MiB and at least half the snapshot's size. Measured in-process
 *   (bench/snapshot-vs-replay.ts, 1M strings + 100k hashes): writing a snapshot costs ~8.5 ms
 *   per MB of snapshot, replaying ~17 ms per MB of WAL, loading a snapshot ~6.6 ms per MB; so
 *   past half the snapshot's size, writing it at shutdown costs less than the replay it saves
 *   (counting shutdown + restart as one outage). Not with automatic snapshots turned off.
 */
export function planShutdown(s: ShutdownState): ShutdownPlan {
  if (s.mode === 'nosave') return s.running ? 'abort' : 'none';
  if (s.mode === 'save') return s.running && s.tail === 0 ? 'finish' : 'fresh';
  const worth = s.logging && s.autoPct > 0 && s.tail >= SHUTDOWN_SNAPSHOT_MIN_WAL && s.tail * 2 >= s.size;
  if (worth) return 'fresh';
  return s.running ? 'finish' : 'none';
}

/** Run the plan in the stopping shard (nothing is served any more); logs the outcome. */
export function shutdownSnapshots(p: ShardPersistence, mode: ShutdownSave, deadline: number): void {
  const snaps = p.snapshots;
  const t0 = performance.now();
  // A BGSAVE answered before the shutdown but not picked up yet starts now (and is finished).
  if (mode !== 'nosave') p.pollMessages();
  snaps.closing = true;
  // A snapshot handed to the I/O thread is committed first (its covered segments go).
  if (!snaps.settle(deadline)) {
    p.log('warn', 'shutdown: the last snapshot was still being committed at the deadline');
    return;
  }
  snaps.restartIfNeeded();
  // Everything logged reaches the file first: the sizes below count it.
  if (p.wal.pending && p.wal.flush(p.policy === 'always')) p.publishWal();
  const running = snaps.running;
  const plan = planShutdown({
    mode,
    logging: p.logging,
    autoPct: p.init.autoPct,
    running,
    tail: running ? snaps.walSinceStart : p.status[P.P_WAL_BYTES]!,
    size: running ? Math.max(snaps.expectedSize, p.status[P.P_BASE_BYTES]!) : p.status[P.P_BASE_BYTES]!,
  });
  if (plan === 'none') return;
  if (plan === 'abort') {
    snaps.abort('shutting down');
    return;
  }
  const walBytes = running ? snaps.walSinceStart : p.status[P.P_WAL_BYTES]!;
  let what: string;
  if (plan === 'finish') what = 'finished the running snapshot';
  else {
    what = `took a snapshot (WAL since the last one: ${mb(walBytes)} MB)`;
    // A running one starts over from the state now (its requests wait for the new one).
    if (running) snaps.restartIfNeeded(true);
    else snaps.startNow();
    if (!snaps.running) return; // could not start (logged)
  }
  const ok = snaps.complete(deadline);
  const ms = Math.round(performance.now() - t0);
  if (!ok) {
    p.log('warn', `shutdown: snapshot not completed after ${ms} ms; the WAL keeps every write`);
    return;
  }
  const { keys, bytes } = snaps.last;
  p.log('info', `shutdown: ${what}: ${keys} keys, ${mb(bytes)} MB, in ${ms} ms`);
}

const mb = (n: number): string => (n / 1048576).toFixed(1);
