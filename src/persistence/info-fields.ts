/**
 * INFO persistence (Redis 7.0 field names, summed over shards; a snapshot is both an "rdb
 * save" and an "AOF rewrite" here: BGSAVE/SAVE count as the former, BGREWRITEAOF and the
 * automatic ones as the latter) and the STATS WAL figures.
 */
import type { Server } from '../server/server.ts';
import * as P from './status.ts';

type Field = [string, string | number];

export function persistenceInfo(srv: Server): Field[] {
  const p = srv.persistence;
  const now = Date.now();
  const saving = p.saving;
  const started = Math.max(0, ...p.status.map((s) => (s[P.P_SAVING] === 1 ? s[P.P_SAVE_START]! : 0)));
  const running = saving !== null && started > 0 ? Math.round((now - started) / 1000) : -1;
  const writeOk = p.status.every((s) => s[P.P_WRITE_ERRNO] === 0 && s[P.P_FSYNC_ERRNO] === 0);
  const aof = srv.config.get('appendonly');
  const fields: Field[] = [
    ['loading', p.loading ? 1 : 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', saving !== null ? p.sum(P.P_SAVE_KEYS) : 0],
    ['current_save_keys_total', saving !== null ? p.sum(P.P_SAVE_TOTAL) : 0],
    ['rdb_changes_since_last_save', Math.max(0, p.sum(P.P_DIRTY))],
    ['rdb_bgsave_in_progress', saving === 'rdb' ? 1 : 0],
    ['rdb_last_save_time', p.lastSave],
    ['rdb_last_bgsave_status', p.rdbLastOk ? 'ok' : 'err'],
    ['rdb_last_bgsave_time_sec', p.rdbLastSecs],
    ['rdb_current_bgsave_time_sec', saving === 'rdb' ? running : -1],
    ['rdb_saves', p.rdbSaves],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', p.sum(P.P_LOAD_EXPIRED)],
    ['rdb_last_load_keys_loaded', p.sum(P.P_LOAD_KEYS)],
    ['aof_enabled', aof ? 1 : 0],
    ['aof_rewrite_in_progress', saving === 'aof' ? 1 : 0],
    ['aof_rewrite_scheduled', p.aofScheduled ? 1 : 0],
    ['aof_last_rewrite_time_sec', p.aofLastSecs],
    ['aof_current_rewrite_time_sec', saving === 'aof' ? running : -1],
    ['aof_last_bgrewrite_status', p.aofLastOk && p.sum(P.P_SNAP_FAILURES) === 0 ? 'ok' : 'err'],
    ['aof_rewrites', Math.max(p.aofRewrites, p.sum(P.P_SAVES) - p.rdbSaves * p.shards)],
    ['aof_rewrites_consecutive_failures', Math.max(0, ...p.status.map((s) => s[P.P_SNAP_FAILURES]!))],
    ['aof_last_write_status', writeOk ? 'ok' : 'err'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
  ];
  if (aof) {
    const base = p.sum(P.P_BASE_BYTES);
    fields.push(
      ['aof_current_size', base + p.sum(P.P_WAL_BYTES)],
      ['aof_base_size', base],
      ['aof_pending_rewrite', 0],
      ['aof_buffer_length', 0],
      ['aof_pending_bio_fsync', 0],
      ['aof_delayed_fsync', p.sum(P.P_DELAYED_FSYNC)],
    );
  }
  if (p.loading) {
    fields.push(
      ['loading_start_time', Math.floor(p.loadingStarted / 1000)],
      ['loading_total_bytes', 0],
      ['loading_rdb_used_mem', 0],
      ['loading_loaded_bytes', 0],
      ['loading_loaded_perc', '0.00'],
      ['loading_eta_seconds', 1],
    );
  }
  return fields;
}

/** STATS wal_position: bytes shard i appended to its WAL since start; null without a WAL. */
export function walPosition(srv: Server, i: number): number | null {
  if (!srv.config.get('appendonly')) return null;
  return srv.persistence.status[i]![P.P_WRITTEN]!;
}

/** STATS wal_lag_bytes: appended but not yet fsynced. */
export function walLag(srv: Server, i: number): number | null {
  if (!srv.config.get('appendonly')) return null;
  const s = srv.persistence.status[i]!;
  return Math.max(0, s[P.P_WRITTEN]! - s[P.P_SYNCED]!);
}
