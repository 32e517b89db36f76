/**
 * Persistence I/O thread (one per process): the slow, blocking file operations that must not
 * stall a shard's synchronous loop.
 * - appendfsync everysec: fdatasync each shard's WAL segment once a second when it has
 *   unsynced bytes (the fd number is read from the shard's status block; file descriptors are
 *   process-wide). A failure is published as an errno the shard turns into -MISCONF.
 * - finishing a snapshot: fsync the temp file, close, rename, fsync the directory, then delete
 *   the snapshot and WAL segments it covers (snapshot-commit.ts).
 */
import { fdatasyncSync } from 'node:fs';
import { workerData, type MessagePort } from 'node:worker_threads';
import { errnoOf } from '../src/persistence/errno.ts';
import * as P from '../src/persistence/status.ts';
import { commitSnapshot, type IoRequest } from '../src/persistence/snapshot-commit.ts';

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
  port.postMessage(commitSnapshot(r));
}

for (const port of init.ports) port.on('message', (m: IoRequest) => finish(port, m));
setInterval(fsyncTick, 100);
