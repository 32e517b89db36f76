/**
 * Rendering for tessera-admin: human units (1.2 MiB, 12.3k), plain-object conversion of
 * replies for --json, and the STATS / SLOWLOG / CONFIG tables.
 */
import { ReplyError, type Reply } from './resp.ts';

/** Bytes in binary units with one decimal: 512 B, 1.2 KiB, 3.4 MiB, 5.6 GiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Counts with decimal suffixes and one decimal: 999, 1.0k, 12.3k, 4.5M, 6.7G. */
export function count(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  // 999.96k would round to "1000.0k": move up a unit instead.
  if (i > 0 && Number(v.toFixed(1)) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? String(Math.round(v)) : `${v.toFixed(1)}${units[i]}`;
}

/** 3d 04h, 2h 05m, 4m 07s, 9s. */
export function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number): string => String(x).padStart(2, '0');
  if (d > 0) return `${d}d ${pad(h)}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/** A reply as plain JSON-able data: Maps become objects, bigints strings, errors {error}. */
export function plain(r: Reply): unknown {
  if (r instanceof Map) return Object.fromEntries([...r].map(([k, v]) => [k, plain(v)]));
  if (Array.isArray(r)) return r.map(plain);
  if (r instanceof ReplyError) return { error: r.message };
  if (typeof r === 'bigint') return r.toString();
  return r;
}

/** RESP2 flat [k, v, k, v…] arrays → Maps, recursively for the given nested keys. */
export function pairsToMap(r: Reply, nested: readonly string[] = []): Reply {
  if (r instanceof Map || !Array.isArray(r)) return r;
  const m = new Map<string, Reply>();
  for (let i = 0; i + 1 < r.length; i += 2) {
    const k = String(r[i]);
    m.set(k, nested.includes(k) ? pairsToMap(r[i + 1]!, k === 'shards' ? ['*'] : []) : r[i + 1]!);
  }
  if (nested.includes('*')) for (const [k, v] of m) m.set(k, pairsToMap(v));
  return m;
}

/**
 * Columns separated by two spaces; `align` has one letter per column ('l' or 'r'), by default
 * the first column left-aligned and the others right-aligned (numbers).
 */
export function table(head: string[], rows: string[][], align = 'l' + 'r'.repeat(head.length - 1)): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

type Obj = Record<string, unknown>;

const num = (o: Obj, k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : 0);
const orDash = (v: unknown, f: (n: number) => string): string => (typeof v === 'number' ? f(v) : '-');

/** The STATS reply (as plain data) as a header line, a per-shard table with totals, and notes. */
export function renderStats(stats: Obj, where: string): string {
  const total = (stats.total ?? {}) as Obj;
  const shards = (stats.shards ?? {}) as Record<string, Obj>;
  const head = ['shard', 'ops/s', 'ops', 'keys', 'expires', 'memory', 'ring', 'expired', 'evicted'];
  head.push('wal pos', 'wal lag');
  const row = (name: string, f: Obj): string[] => [
    name,
    count(num(f, 'ops_per_sec')),
    count(num(f, 'ops')),
    count(num(f, 'keys')),
    count(num(f, 'expires')),
    bytes(num(f, 'memory_bytes')),
    bytes(num(f, 'ring_depth_bytes')),
    count(num(f, 'expired_keys')),
    count(num(f, 'evicted_keys')),
    orDash(f.wal_position, count),
    orDash(f.wal_lag_bytes, bytes),
  ];
  const ids = Object.keys(shards).sort((a, b) => Number(a) - Number(b));
  const rows = ids.map((id) => row(id, shards[id]!));
  rows.push(row('total', total));
  const windowS = num(stats, 'ops_window_ms') / 1000;
  const lines = [
    `Tessera ${String(stats.version ?? '?')} at ${where}  up ${duration(num(stats, 'uptime_seconds'))}  ` +
      `${num(stats, 'shard_count')} shard(s)  ${num(total, 'connections')} client(s)  ` +
      `RSS ${bytes(num(stats, 'rss_bytes'))}  ops/s over ${windowS.toFixed(1)} s`,
    '',
    table(head, rows),
  ];
  const noWal = [total, ...Object.values(shards)].every(
    (f) => f.wal_position === null || f.wal_position === undefined,
  );
  if (noWal) lines.push('', 'wal: n/a (persistence is not implemented in this server version)');
  return lines.join('\n');
}

/** SLOWLOG GET entries: [id, unix time, µs, [args], client addr, client name]. */
export function slowlogEntries(r: Reply): Obj[] {
  if (!Array.isArray(r)) return [];
  return r.map((e) => {
    const a = Array.isArray(e) ? e : [];
    return {
      id: a[0],
      time: a[1],
      duration_us: a[2],
      args: Array.isArray(a[3]) ? a[3].map(String) : [],
      client: a[4] ?? '',
      client_name: a[5] ?? '',
    };
  });
}

export function renderSlowlog(entries: Obj[]): string {
  if (entries.length === 0) return '(slowlog is empty)';
  const rows = entries.map((e) => [
    String(e.id),
    typeof e.time === 'number' ? new Date(e.time * 1000).toISOString().replace('T', ' ').slice(0, 19) : '?',
    typeof e.duration_us === 'number' ? microseconds(e.duration_us) : '?',
    String(e.client || '-'),
    quoteArgs(e.args as string[]),
  ]);
  return table(['id', 'time (UTC)', 'duration', 'client', 'command'], rows, 'rlrll');
}

function microseconds(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

function quoteArgs(args: string[]): string {
  return args.map((a) => (/^[\x21-\x7e]+$/.test(a) && !a.includes('"') ? a : JSON.stringify(a))).join(' ');
}
