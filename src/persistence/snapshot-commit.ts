/**
 * The steps that make a written snapshot the shard's recovery point: fsync the temp file,
 * close, rename, fsync the directory, then delete the snapshot and WAL segments it covers.
 * The persist-io thread runs them for snapshots taken while serving (the shard never waits on
 * an fsync); a shard runs them itself when it has nothing left to serve (clean shutdown,
 * the snapshot written before serving after a shard-count change).
 */
import { closeSync, fsyncSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoOf } from './errno.ts';
import { fsyncDir, listDataFiles } from './files.ts';

/** A written snapshot to commit (shard → I/O thread). */
export interface IoRequest {
  t: 'finish';
  fd: number;
  tmp: string;
  final: string;
  dir: string;
  shard: number;
  shards: number;
  seq: number;
}
export type IoReply = { t: 'finished'; ok: boolean; errno?: number };

export function commitSnapshot(r: IoRequest): IoReply {
  try {
    fsyncSync(r.fd);
    closeSync(r.fd);
    renameSync(r.tmp, r.final);
    fsyncDir(r.dir);
    // Covered now: older snapshots and the WAL segments before the new snapshot's position.
    for (const f of listDataFiles(r.dir)) {
      if (f.shard === r.shard && f.shards === r.shards && f.seq < r.seq) {
        try {
          unlinkSync(path.join(r.dir, f.name));
        } catch {
          // already gone
        }
      }
    }
    return { t: 'finished', ok: true };
  } catch (err) {
    try {
      closeSync(r.fd);
    } catch {
      // closed before the failure
    }
    try {
      unlinkSync(r.tmp);
    } catch {
      // not there
    }
    return { t: 'finished', ok: false, errno: errnoOf(err) };
  }
}
