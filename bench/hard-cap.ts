/**
 * The hard-cap run (issue: "a cache that never exceeds its budget"): start Tessera (and, for
 * comparison, redis-server) with maxmemory and allkeys-lru, write `factor` times maxmemory of
 * new keys through pipelined connections, sample the process's RSS every 100 ms, and check
 *
 *   peak RSS <= RSS at startup + maxmemory + overhead-mib per shard   (Tessera's documented bound)
 *   no write refused (every SET answered +OK)
 *
 * It also reports SET throughput once the limit is reached (evicting on every write), with
 * the Tessera/Redis ratio. Exit status 1 when Tessera breaks the bound or refuses a write.
 *
 *   node bench/hard-cap.ts                        # 100mb, 10x, 1000-byte values, both servers
 *   node bench/hard-cap.ts --value mixed          # 64 B..4 KiB values (many size classes)
 *   node bench/hard-cap.ts --maxmemory 1gb --no-redis --shards 2
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline, rssOf, setCmd } from '../test/helpers/bulk.ts';
import { ROOT } from '../test/helpers/server.ts';
import { parseMemory } from '../src/config/params.ts';
import { ControlClient, parseInfo } from './resp/control.ts';
import { launchRedis, launchTessera, redisOnPath, type Launched } from './targets/launch.ts';

const { values: opt } = parseArgs({
  options: {
    maxmemory: { type: 'string', default: '100mb' },
    factor: { type: 'string', default: '10' },
    value: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '8' },
    pipeline: { type: 'string', default: '32' },
    shards: { type: 'string' },
    'overhead-mib': { type: 'string', default: '32' },
    'no-redis': { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
  },
});

const MiB = 1024 * 1024;
const maxmemory = parseMemory(opt.maxmemory);
if (maxmemory === undefined || maxmemory === 0) throw new Error(`bad --maxmemory ${opt.maxmemory}`);
const factor = Number(opt.factor);
const mixed = opt.value === 'mixed';
const valueSize = mixed ? 2080 : Number(opt.value);
const connections = Number(opt.connections);
const window = Number(opt.pipeline);
const overhead = Number(opt['overhead-mib']) * MiB;
const big = Buffer.alloc(mixed ? 4096 : valueSize, 'v');
// Mixed: sizes spread over 64..4095 bytes by a multiplicative hash of the key index.
const valueOf = (i: number): Buffer =>
  mixed ? big.subarray(0, 64 + ((Math.imul(i, 2654435761) >>> 0) % 4032)) : big;

interface Outcome {
  target: string;
  shards: number;
  baselineRss: number;
  peakRss: number;
  /** Peak RSS minus startup RSS minus maxmemory. */
  overMaxmemory: number;
  bound: number | null;
  withinBound: boolean | null;
  writes: number;
  ok: number;
  refused: Record<string, number>;
  seconds: number;
  /** SETs per second after the first 20% of the writes (2x maxmemory: evicting throughout). */
  setOpsAtLimit: number;
  usedMemory: number;
  evictedKeys: number;
  rssSeries: number[];
}

async function info(port: number): Promise<Map<string, string>> {
  const c = await ControlClient.connect('127.0.0.1', port);
  try {
    return parseInfo(await c.text('INFO', 'all'));
  } finally {
    c.close();
  }
}

async function runOne(name: string, l: Launched): Promise<Outcome> {
  await new Promise((r) => setTimeout(r, 1000));
  const baselineRss = rssOf(l.pid);
  const c = await ControlClient.connect('127.0.0.1', l.port);
  await c.text('CONFIG', 'SET', 'maxmemory', String(maxmemory));
  await c.text('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
  c.close();
  const shards = Number((await info(l.port)).get('shards') ?? 1);
  const series: number[] = [];
  let peak = baselineRss;
  const timer = setInterval(() => {
    const r = rssOf(l.pid);
    series.push(r);
    peak = Math.max(peak, r);
  }, 100);
  const n = Math.ceil((factor * maxmemory!) / valueSize);
  const per = Math.ceil(n / connections);
  let done = 0;
  let markAt = 0;
  let markDone = 0;
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: connections }, (_, ci) => {
      const from = ci * per;
      const count = Math.max(0, Math.min(per, n - from));
      let last = 0;
      return pipeline(
        l.port,
        count,
        (i) => setCmd(`hc:${from + i}`, valueOf(from + i)),
        window,
        (received) => {
          done += received - last;
          last = received;
          if (markAt === 0 && done >= n * 0.2) {
            markAt = performance.now();
            markDone = done;
          }
        },
      );
    }),
  );
  const t1 = performance.now();
  clearInterval(timer);
  peak = Math.max(peak, rssOf(l.pid));
  const refused: Record<string, number> = {};
  for (const r of results) for (const [e, k] of r.errors) refused[e] = (refused[e] ?? 0) + k;
  const after = await info(l.port);
  const bound = name === 'tessera' ? baselineRss + maxmemory! + overhead * shards : null;
  return {
    target: name,
    shards,
    baselineRss,
    peakRss: peak,
    overMaxmemory: peak - baselineRss - maxmemory!,
    bound,
    withinBound: bound === null ? null : peak <= bound,
    writes: n,
    ok: results.reduce((s, r) => s + r.ok, 0),
    refused,
    seconds: (t1 - t0) / 1000,
    setOpsAtLimit: markAt > 0 ? ((done - markDone) * 1000) / (t1 - markAt) : 0,
    usedMemory: Number(after.get('used_memory')),
    evictedKeys: Number(after.get('evicted_keys')),
    rssSeries: series,
  };
}

const mib = (x: number): string => (x / MiB).toFixed(1);
const outcomes: Outcome[] = [];
const targets: [string, () => Promise<Launched>][] = [['tessera', () => launchTessera(opt.shards ?? null)]];
if (!opt['no-redis'] && redisOnPath()) targets.push(['redis', launchRedis]);
for (const [name, launch] of targets) {
  const l = await launch();
  try {
    process.stderr.write(`${name}: writing ${factor}x ${opt.maxmemory} ...\n`);
    const o = await runOne(name, l);
    outcomes.push(o);
    console.log(
      `${name.padEnd(8)} shards ${o.shards}  RSS startup ${mib(o.baselineRss)} MiB, peak ${mib(o.peakRss)} MiB ` +
        `(maxmemory + ${mib(o.overMaxmemory)} MiB over startup)` +
        (o.bound !== null ? `, bound ${mib(o.bound)} MiB: ${o.withinBound ? 'OK' : 'EXCEEDED'}` : '') +
        `; ${o.ok}/${o.writes} writes OK` +
        (Object.keys(o.refused).length ? `, refused ${JSON.stringify(o.refused)}` : '') +
        `; SET ${Math.round(o.setOpsAtLimit)} ops/s at the limit; used_memory ${mib(o.usedMemory)} MiB, ` +
        `evicted ${o.evictedKeys}`,
    );
  } finally {
    await l.stop();
  }
}
const tes = outcomes.find((o) => o.target === 'tessera')!;
const red = outcomes.find((o) => o.target === 'redis');
if (red !== undefined && red.setOpsAtLimit > 0)
  console.log(`SET at the limit, tessera/redis: ${(tes.setOpsAtLimit / red.setOpsAtLimit).toFixed(2)}`);
mkdirSync(opt.out, { recursive: true });
const file = path.join(opt.out, `hard-cap-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  JSON.stringify({ settings: { ...opt, maxmemoryBytes: maxmemory, valueSize }, outcomes }, null, 2),
);
console.log(`written ${path.relative(process.cwd(), file)}`);
process.exitCode = tes.withinBound && tes.ok === tes.writes ? 0 : 1;
