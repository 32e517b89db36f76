/**
 * Per-shard persistence figures in a SharedArrayBuffer (Float64Array): the shard writes them,
 * the main thread reads them for INFO persistence, STATS, the -MISCONF check and the loading
 * state, and the fsync thread (workers/persist-io.ts) reads the WAL fd and writes back what it
 * made durable. No messages per command or per scrape.
 */
export const P_FD = 0; // current WAL segment fd, -1 none
export const P_POLICY = 1; // 0 always, 1 everysec, 2 no
export const P_WRITTEN = 2; // bytes ever written to WAL files by this process (wal position)
export const P_SYNCED = 3; // of those, bytes made durable by an fsync
export const P_WRITE_ERRNO = 4; // errno of the failing WAL write, 0 ok
export const P_FSYNC_ERRNO = 5; // errno of the failing background fsync, 0 ok
export const P_LAST_FSYNC = 6; // ms time of the last background fsync
export const P_DELAYED_FSYNC = 7; // background fsyncs that ran more than 2 s after the write
export const P_WAL_BYTES = 8; // bytes of live WAL segments (since the last snapshot)
export const P_BASE_BYTES = 9; // size of the current snapshot
export const P_SAVING = 10; // 1 while a snapshot runs
export const P_SAVE_START = 11; // ms
export const P_SAVE_KEYS = 12; // keys written so far
export const P_SAVE_TOTAL = 13; // keys at the start
export const P_LAST_SAVE = 14; // ms time of the last successful snapshot
export const P_LAST_SAVE_OK = 15; // 1 ok, 0 failed
export const P_LAST_SAVE_SECS = 16; // duration of the last snapshot
export const P_SAVES = 17; // snapshots completed
export const P_DIRTY = 18; // changes since the last snapshot started
export const P_LOADING = 19; // 1 while recovering
export const P_LOAD_KEYS = 20; // keys loaded
export const P_LOAD_EXPIRED = 21; // keys dropped at load because they had expired
export const P_SNAP_FAILURES = 22; // consecutive failed snapshots
export const P_WAL_FRAMES = 23; // group commits written
export const P_SIZE = 24;

export const POLICY = { always: 0, everysec: 1, no: 2 } as const;
export type FsyncPolicy = keyof typeof POLICY;

export function statusBytes(): number {
  return P_SIZE * 8;
}
