import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { errorStats } from './error-stats.ts';
import { histogramPercentile } from './command-stats.ts';
import * as S from '../router/shard-stats.ts';
import type { Server } from '../server/server.ts';
import { persistenceInfo } from '../persistence/info-fields.ts';
import { REDIS_VERSION, TESSERA_VERSION } from '../version.ts';

/**
 * INFO in Redis's format (`# Section` headers, `field:value` lines, CRLF) so redis-cli,
 * redis_exporter and dashboards read it unchanged. Shard figures come from the shared
 * stats blocks the workers publish (at most ~100 ms old).
 */

type Section = (srv: Server) => [string, string | number][];

function shardSum(srv: Server, slot: number): number {
  let n = 0;
  for (let i = 0; i < srv.shards.count; i++) n += srv.shards.stats(i)[slot]!;
  return n;
}

const server: Section = (srv) => {
  const up = Math.floor((Date.now() - srv.startedAt) / 1000);
  return [
    ['redis_version', REDIS_VERSION],
    ['tessera_version', TESSERA_VERSION],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`],
    ['arch_bits', 64],
    ['multiplexing_api', 'epoll'],
    ['node_version', process.versions.node],
    ['process_id', process.pid],
    ['tcp_port', srv.port],
    ['server_time_usec', Date.now() * 1000],
    ['uptime_in_seconds', up],
    ['uptime_in_days', Math.floor(up / 86400)],
    ['hz', srv.config.get('hz')],
    ['executable', process.argv[1] ?? ''],
    ['config_file', srv.configFile ?? ''],
  ];
};

const clients: Section = (srv) => [
  ['connected_clients', srv.conns.size],
  ['maxclients', srv.config.get('maxclients')],
  ['blocked_clients', srv.blocking.blockedClients],
  ['tracking_clients', 0],
];

function human(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${n.toFixed(2)}${units[i]}`;
}

/** INFO used_memory: every shard's live data (Keyspace.memoryBytes), the figure maxmemory limits. */
export function usedMemory(srv: Server): number {
  return shardSum(srv, S.ST_MEMORY);
}

/**
 * used_memory counts what the data uses (live arena chunks, index tables, values of other
 * types), like Redis's zmalloc total; allocator_active what the shards hold for it (arena
 * pages, pooled empty pages included); RSS the whole process (V8 heaps, rings, code).
 * mem_fragmentation_ratio is RSS / used_memory, as in Redis: with little data it is large
 * because of the fixed baseline, not because of fragmentation.
 */
const memory: Section = (srv) => {
  const used = usedMemory(srv);
  const mu = process.memoryUsage();
  srv.peakMemory = Math.max(srv.peakMemory, used);
  const max = srv.config.get('maxmemory');
  return [
    ['used_memory', used],
    ['used_memory_human', human(used)],
    ['used_memory_rss', mu.rss],
    ['used_memory_rss_human', human(mu.rss)],
    ['used_memory_peak', srv.peakMemory],
    ['used_memory_peak_human', human(srv.peakMemory)],
    ['used_memory_peak_perc', `${srv.peakMemory > 0 ? ((used * 100) / srv.peakMemory).toFixed(2) : '0.00'}%`],
    ['used_memory_dataset', shardSum(srv, S.ST_ARENA_USED)],
    ['used_memory_index', shardSum(srv, S.ST_INDEX_BYTES)],
    ['used_memory_heap_main', mu.heapUsed],
    ['allocator_active', shardSum(srv, S.ST_HELD)],
    ['total_system_memory', os.totalmem()],
    ['total_system_memory_human', human(os.totalmem())],
    ['maxmemory', max],
    ['maxmemory_human', human(max)],
    ['maxmemory_policy', srv.config.get('maxmemory-policy')],
    ['mem_fragmentation_ratio', used > 0 ? (mu.rss / used).toFixed(2) : '0.00'],
    ['mem_fragmentation_bytes', mu.rss - used],
    ['mem_allocator', 'tessera-arena'],
  ];
};

const stats: Section = (srv) => {
  let calls = 0;
  for (const n of srv.commandStats.calls) calls += n;
  return [
    ['total_connections_received', srv.stats.totalConnections],
    ['total_commands_processed', calls],
    ['total_net_input_bytes', srv.stats.netInput],
    ['total_net_output_bytes', srv.stats.netOutput],
    ['rejected_connections', srv.stats.rejectedConnections],
    ['expired_keys', shardSum(srv, S.ST_EXPIRED)],
    ['evicted_keys', shardSum(srv, S.ST_EVICTED)],
    ['keyspace_hits', shardSum(srv, S.ST_HITS)],
    ['keyspace_misses', shardSum(srv, S.ST_MISSES)],
    ['pubsub_channels', srv.pubsub.channels.size],
    ['pubsub_patterns', srv.pubsub.patterns.size],
    ['pubsubshard_channels', srv.pubsub.shardChannels.size],
    ['total_error_replies', errorStats.total],
    ['protocol_errors', srv.stats.protocolErrors],
  ];
};

const persistence: Section = (srv) => persistenceInfo(srv);

const replication: Section = () => [
  ['role', 'master'],
  ['connected_slaves', 0],
  ['master_failover_state', 'no-failover'],
  ['master_replid', REPLID],
  ['master_repl_offset', 0],
  ['repl_backlog_active', 0],
];
const REPLID = randomBytes(20).toString('hex');

const cpu: Section = () => {
  const all = process.cpuUsage();
  const main = process.threadCpuUsage ? process.threadCpuUsage() : all;
  const s = (us: number): string => (us / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', s(all.system)],
    ['used_cpu_user', s(all.user)],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', s(main.system)],
    ['used_cpu_user_main_thread', s(main.user)],
  ];
};

const keyspace: Section = (srv) => {
  const rows: [string, string][] = [];
  const dbs = srv.config.get('databases');
  for (let db = 0; db < dbs; db++) {
    let keys = 0;
    let expires = 0;
    for (let i = 0; i < srv.shards.count; i++) {
      keys += srv.shards.stats(i)[S.dbKeysSlot(db)]!;
      expires += srv.shards.stats(i)[S.dbExpiresSlot(db)]!;
    }
    if (keys > 0) rows.push([`db${db}`, `keys=${keys},expires=${expires},avg_ttl=0`]);
  }
  return rows;
};

const shards: Section = (srv) => {
  const rows: [string, string | number][] = [['shards', srv.shards.count]];
  for (let i = 0; i < srv.shards.count; i++) {
    const st = srv.shards.stats(i);
    rows.push([
      `shard${i}`,
      `keys=${st[S.ST_KEYS]},expires=${st[S.ST_EXPIRES]},memory=${st[S.ST_MEMORY]},ops=${st[S.ST_OPS]},expired=${st[S.ST_EXPIRED]},ring_depth=${srv.shards.requestDepth(i)}`,
    ]);
  }
  return rows;
};

const commandstats: Section = (srv) => {
  const rows: [string, string][] = [];
  for (const [name, c] of srv.commandStats.snapshot()) {
    const perCall = c.calls > 0 ? c.usec / c.calls : 0;
    rows.push([
      `cmdstat_${name}`,
      `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${perCall.toFixed(2)},rejected_calls=${c.rejected},failed_calls=${c.failed}`,
    ]);
  }
  return rows;
};

const errorstats: Section = () => [...errorStats.byPrefix].map(([p, n]) => [`errorstat_${p}`, `count=${n}`]);

/** Percentiles are bucket upper edges of a log2 histogram: within 2x, not HdrHistogram-exact. */
const latencystats: Section = (srv) => {
  const rows: [string, string][] = [];
  for (const [name, c] of srv.commandStats.snapshot()) {
    if (c.calls === 0) continue;
    const p = (q: number): string => histogramPercentile(c.histogram, q).toFixed(3);
    rows.push([`latency_percentiles_usec_${name}`, `p50=${p(50)},p99=${p(99)},p99.9=${p(99.9)}`]);
  }
  return rows;
};

const SECTIONS: Record<string, Section> = {
  server,
  clients,
  memory,
  persistence,
  stats,
  replication,
  cpu,
  commandstats,
  errorstats,
  latencystats,
  keyspace,
  shards,
};
/** Redis's default set (without commandstats/latencystats), plus our shards section. */
const DEFAULT = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cpu',
  'errorstats',
  'keyspace',
  'shards',
];

export function renderInfo(srv: Server, requested: string[]): string {
  let names = requested.map((s) => s.toLowerCase());
  if (names.length === 0 || names.includes('default')) names = DEFAULT;
  else if (names.includes('all') || names.includes('everything')) names = Object.keys(SECTIONS);
  let out = '';
  for (const name of names) {
    const section = SECTIONS[name];
    if (!section) continue;
    if (out.length > 0) out += '\r\n';
    out += `# ${name[0]!.toUpperCase()}${name.slice(1)}\r\n`;
    for (const [k, v] of section(srv)) out += `${k}:${v}\r\n`;
  }
  return out;
}
