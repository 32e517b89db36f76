/**
 * Persistence I/O thread (one per process): the slow, blocking file operations that must not
 * stall a shard's synchronous loop.
 * - appendfsync everysec: fdatasync each shard's WAL segment once a second when it has
 *   unsynced bytes (the fd number is read from the shard's status block; file descriptors are
 *   process-wide). A failure is published as an errno the shard turns into -MISCONF.
 * - finishing a snapshot: fsync the temp file, close, rename, fsync the directory, then delete
 *   the snapshot and WAL segments it covers.
 */
import { closeSync, fdatasyncSync, fsyncSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { workerData, type MessagePort } from 'node:worker_threads';
import { errnoOf } from '../src/persistence/errno.ts';
import { fsyncDir, listDataFiles } from '../src/persistence/files.ts';
import * as P from '../src/persistence/status.ts';
import type { IoReply, IoRequest } from '../src/persistence/shard-snapshot.ts';

interface IoInit {
  statusSabs: SharedArrayBuffer[];
  ports: MessagePort[];
}

const init = workerData as IoInit;
const status = init.statusSabs.map((s) => new Float64Array(s));

function fsyncTick(): void {
  const now = Date.now();
  for (const st of status) {
    if (st[P.P_POLICY] !== P.POLICY.everysec) continue;
    const fd = st[P.P_FD]!;
    const written = st[P.P_WRITTEN]!;
    if (fd < 0 || (written <= st[P.P_SYNCED]! && st[P.P_FSYNC_ERRNO] === 0)) continue;
    if (now - st[P.P_LAST_FSYNC]! < 1000 && st[P.P_FSYNC_ERRNO] === 0) continue;
    const t0 = Date.now();
    try {
      fdatasyncSync(fd);
      if (written > st[P.P_SYNCED]!) st[P.P_SYNCED] = written;
      st[P.P_FSYNC_ERRNO] = 0;
    } catch (err) {
      // EBADF: the shard rotated the segment (and fsynced the old one itself) meanwhile.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EBADF') st[P.P_FSYNC_ERRNO] = errnoOf(err);
    }
    st[P.P_LAST_FSYNC] = now;
    if (Date.now() - t0 > 2000) st[P.P_DELAYED_FSYNC]!++;
  }
}

function finish(port: MessagePort, r: IoRequest): void {
  let reply: IoReply;
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
    reply = { t: 'finished', ok: true };
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
    reply = { t: 'finished', ok: false, errno: errnoOf(err) };
  }
  port.postMessage(reply);
}

for (const port of init.ports) port.on('message', (m: IoRequest) => finish(port, m));
setInterval(fsyncTick, 100);
