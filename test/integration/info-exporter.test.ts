import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis, startTessera } from '../helpers/server.ts';

/** INFO text → section name → field → value, the way redis_exporter splits it. */
function parseInfo(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) {
      section = new Map();
      out.set(line.slice(2).toLowerCase(), section);
    } else if (line.includes(':')) {
      const i = line.indexOf(':');
      section.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

// Fields redis_exporter (oliver006/redis_exporter) maps to metrics, by section.
const EXPORTED: Record<string, string[]> = {
  server: ['redis_version', 'redis_mode', 'os', 'arch_bits', 'process_id', 'tcp_port', 'uptime_in_seconds'],
  clients: ['connected_clients', 'blocked_clients', 'tracking_clients', 'maxclients'],
  memory: [
    'used_memory',
    'used_memory_rss',
    'used_memory_peak',
    'total_system_memory',
    'maxmemory',
    'mem_fragmentation_ratio',
  ],
  persistence: [
    'loading',
    'rdb_changes_since_last_save',
    'rdb_bgsave_in_progress',
    'rdb_last_save_time',
    'aof_enabled',
    'aof_rewrite_in_progress',
  ],
  stats: [
    'total_connections_received',
    'total_commands_processed',
    'total_net_input_bytes',
    'total_net_output_bytes',
    'rejected_connections',
    'expired_keys',
    'evicted_keys',
    'keyspace_hits',
    'keyspace_misses',
    'pubsub_channels',
    'pubsub_patterns',
    'total_error_replies',
  ],
  replication: ['role', 'connected_slaves', 'master_repl_offset'],
  cpu: ['used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children'],
};

t.test('INFO carries the fields redis_exporter reads, in Redis formats', async (t) => {
  const [tes, red] = await Promise.all([startTessera(['--shards', '2']), startRedis()]);
  t.teardown(() => Promise.all([tes.stop(), red.stop()]));
  const a = new Redis({ port: tes.port });
  const b = new Redis({ port: red.port });
  t.teardown(() => (a.disconnect(), b.disconnect()));
  for (const c of [a, b]) {
    await c.set('k1', 'v');
    await c.set('k2', 'v', 'EX', 100);
    await c.get('k1');
    await c.call('INCR', 'k1').catch(() => {});
    await c.call('NOSUCHCMD').catch(() => {});
  }
  await new Promise((r) => setTimeout(r, 250)); // shard stats are published every ≤100 ms
  const ti = parseInfo((await a.call('INFO', 'everything')) as string);
  const ri = parseInfo((await b.call('INFO', 'everything')) as string);
  for (const [section, fields] of Object.entries(EXPORTED)) {
    t.ok(ti.has(section), `section ${section}`);
    for (const f of fields) {
      t.ok(ri.get(section)?.has(f), `redis has ${section}.${f} (sanity)`);
      const v = ti.get(section)?.get(f);
      t.ok(v !== undefined, `tessera has ${section}.${f}`);
      // Same shape: numeric where Redis's is numeric.
      if (/^-?\d+(\.\d+)?$/.test(ri.get(section)!.get(f)!)) t.match(v, /^-?\d+(\.\d+)?$/, `${f} is numeric`);
    }
  }
  t.equal(
    ti
      .get('keyspace')
      ?.get('db0')
      ?.replace(/avg_ttl=\d+/, 'avg_ttl=_'),
    'keys=2,expires=1,avg_ttl=_',
    'db0 line',
  );
  t.match(
    ti.get('commandstats')?.get('cmdstat_set'),
    /^calls=2,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=0,failed_calls=0$/,
  );
  t.match(
    ti.get('commandstats')?.get('cmdstat_incr'),
    /failed_calls=1$/,
    'INCR on a non-integer counts as failed',
  );
  t.equal(
    ti.get('errorstats')?.get('errorstat_ERR'),
    ri.get('errorstats')?.get('errorstat_ERR'),
    'errorstats agree',
  );
  t.match(
    ti.get('latencystats')?.get('latency_percentiles_usec_get'),
    /^p50=[\d.]+,p99=[\d.]+,p99\.9=[\d.]+$/,
  );
  t.equal(
    ti.get('stats')?.get('keyspace_hits'),
    ri.get('stats')?.get('keyspace_hits'),
    'keyspace_hits agree',
  );
});
