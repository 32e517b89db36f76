/**
 * The hard cap: with maxmemory and allkeys-lru, a write load of 10x the limit never gets a
 * refusal and the daemon's RSS stays within the documented bound for the whole run:
 * RSS ≤ RSS at startup + maxmemory + 32 MiB per shard (README, Operations: memory).
 * A short version of scripts/hard-cap.ts (which runs 100mb and compares with Redis).
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { pipeline, rssOf, setCmd } from '../helpers/bulk.ts';
import type { TT } from '../helpers/raw.ts';
import { startTessera } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const OVERHEAD_PER_SHARD = 32 * MiB;

async function run(
  t: TT,
  maxmemoryMb: number,
  valueOf: (i: number) => Buffer,
  avgValue: number,
): Promise<void> {
  const srv = await startTessera([
    '--shards',
    '1',
    '--maxmemory',
    `${maxmemoryMb}mb`,
    '--maxmemory-policy',
    'allkeys-lru',
  ]);
  const r = new Redis({ port: srv.port });
  t.teardown(async () => {
    r.disconnect();
    await srv.stop();
  });
  const pid = srv.proc.pid!;
  await new Promise((res) => setTimeout(res, 500));
  const base = rssOf(pid);
  const bound = base + maxmemoryMb * MiB + OVERHEAD_PER_SHARD;
  let max = 0;
  const sample = (): void => {
    max = Math.max(max, rssOf(pid));
  };
  const timer = setInterval(sample, 100);
  const n = Math.ceil((10 * maxmemoryMb * MiB) / avgValue);
  const res = await pipeline(srv.port, n, (i) => setCmd(`key:${i}`, valueOf(i)), 256);
  clearInterval(timer);
  sample();
  t.equal(res.ok, n, `all ${n} writes answered +OK`);
  t.same([...res.errors], [], 'no write refused');
  t.ok(
    max <= bound,
    `peak RSS ${(max / MiB).toFixed(1)} MiB <= startup ${(base / MiB).toFixed(1)} + ${maxmemoryMb} + 32 MiB`,
  );
  const info = await r.info();
  const used = Number(/used_memory:(\d+)/.exec(info)![1]);
  t.ok(used <= maxmemoryMb * MiB, `used_memory ${used} within maxmemory`);
  t.ok(Number(/evicted_keys:(\d+)/.exec(info)![1]) > n / 2, 'most keys were evicted');
}

t.test('1 KiB values, 10x maxmemory', (t) => run(t, 32, () => Buffer.alloc(1000, 'x'), 1000));

t.test('values of 64 B to 4 KiB (many size classes), 10x maxmemory', (t) => {
  const big = Buffer.alloc(4096, 'y');
  return run(t, 32, (i) => big.subarray(0, 64 + ((Math.imul(i, 2654435761) >>> 0) % 4032)), 2080);
});
