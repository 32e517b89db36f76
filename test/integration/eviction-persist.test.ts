/**
 * Evictions reach the write-ahead log: after a restart (without a memory limit, so nothing is
 * evicted again), exactly the keys that were resident before come back, none of the evicted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Redis } from 'ioredis';
import { pipeline, setCmd } from '../helpers/bulk.ts';
import { startOn } from '../helpers/persist.ts';

const N = 20000;
const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-evict-wal-')), 'data');
t.teardown(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

async function resident(r: Redis): Promise<Set<number>> {
  const keys = Array.from({ length: N }, (_, i) => `k:${i}`);
  const present = new Set<number>();
  for (let i = 0; i < N; i += 1000) {
    const vals = await r.mget(...keys.slice(i, i + 1000));
    vals.forEach((v, j) => {
      if (v !== null) present.add(i + j);
    });
  }
  return present;
}

t.test('evicted keys stay evicted across a restart', async (t) => {
  let srv = await startOn(dir, ['--shards', '2', '--maxmemory', '1mb', '--maxmemory-policy', 'allkeys-lru']);
  let r = new Redis({ port: srv.port });
  const res = await pipeline(srv.port, N, (i) => setCmd(`k:${i}`, 'v'.repeat(100)));
  t.equal(res.ok, N);
  const before = await resident(r);
  const evicted = Number(/evicted_keys:(\d+)/.exec(await r.info('stats'))![1]);
  t.ok(evicted > N / 2, `${evicted} keys evicted`);
  t.equal(before.size, N - evicted, 'resident + evicted = written');
  r.disconnect();
  await srv.stop();

  srv = await startOn(dir, ['--shards', '2']);
  r = new Redis({ port: srv.port });
  t.teardown(async () => {
    r.disconnect();
    await srv.stop();
  });
  const after = await resident(r);
  t.equal(after.size, before.size, 'as many keys as before the restart');
  t.same(
    [...after].filter((i) => !before.has(i)),
    [],
    'no evicted key came back',
  );
});
