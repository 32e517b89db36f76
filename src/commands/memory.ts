import { TYPE_STRING } from '../store/record.ts';
import { E } from '../protocol/redis-errors.ts';
import { readResp } from '../protocol/reader.ts';
import { RespWriter } from '../protocol/writer.ts';
import type { LocalContext } from '../server/local.ts';
import { KeyTable } from '../store/keytable.ts';
import { argInt64 } from './shard-util.ts';
import type { CommandDef, ShardContext } from './types.ts';

/**
 * MEMORY USAGE / STATS / DOCTOR / HELP.
 *
 * What a key costs in Tessera (MEMORY USAGE): its record's arena chunk (header, key and value,
 * rounded up to the chunk's size class) plus its share of its database's index. The index is
 * an open-addressing table of 8 bytes per slot (a 4-byte handle and a 4-byte hash fragment);
 * at load factor `keys / slots` each key's share is 8 / load factor = 8 × slots / keys bytes
 * (rounded up; both tables count while an incremental rehash is in progress). Tessera has no
 * separate expires dictionary: a TTL lives in the record header, so it adds nothing.
 */

/** Shard part of MEMORY USAGE key [SAMPLES count] (options checked first, as Redis does). */
function usage(c: ShardContext): void {
  const { req, ks, out } = c;
  for (let j = 1; j < req.argc; j++) {
    if (req.is(j, 'SAMPLES') && j + 1 < req.argc) {
      const n = argInt64(req, j + 1);
      if (n === null) return out.error(E.NOT_INTEGER);
      if (n < 0) return out.error(E.SYNTAX);
      // Strings have no nested values to sample: the count is validated and otherwise unused.
      j++;
    } else return out.error(E.SYNTAX);
  }
  const h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  if (h === 0) return out.nullBulk();
  const t = ks.table(req.db);
  const value = ks.type(h) === TYPE_STRING ? 0 : ks.getObject(h).bytes();
  out.integer(ks.arena.sizeOf(h) + value + Math.ceil((8 * t.capacity) / Math.max(1, t.size)));
}

/**
 * Shard part of MEMORY STATS: [arena bytes held in pages, arena bytes in live chunks, databases,
 * then per database: keys, keys with a TTL, index bytes]. Computed when asked, so the figures
 * include every command the client sent before.
 */
function statsPart(c: ShardContext): void {
  const { ks, out } = c;
  const dbs = ks.tables.length;
  out.arrayHeader(3 + 3 * dbs);
  out.integer(ks.arena.allocatedBytes);
  out.integer(ks.arena.usedBytes);
  out.integer(dbs);
  for (let db = 0; db < dbs; db++) {
    out.integer(ks.keyCount(db));
    out.integer(ks.expireCount(db));
    out.integer(ks.table(db).bytes);
  }
}

export const memoryCommands: CommandDef[] = [
  { name: 'memory|usage', route: 'key', shard: usage },
  // STATS and DOCTOR run on main and ask every shard for the same figures.
  { name: 'memory|stats', route: 'local', shard: statsPart },
  { name: 'memory|doctor', route: 'local', shard: statsPart },
];

interface MemoryFigures {
  peak: number;
  total: number;
  startup: number;
  /** Index bytes per database. */
  dbIndex: number[];
  dbKeys: number[];
  index: number;
  arenaPages: number;
  arenaUsed: number;
  keys: number;
  rss: number;
}

/** Redis computes these ratios as C floats; fround keeps the same digits in replies. */
const f32 = (x: number): number => Math.fround(Number.isFinite(x) ? x : 0);

function collect(c: LocalContext, parts: (Buffer | null)[]): MemoryFigures {
  const srv = c.srv;
  const dbs = srv.config.get('databases');
  const fig: MemoryFigures = {
    peak: 0,
    total: 0,
    // An empty shard holds one minimum-size index table per database and no arena pages.
    startup: srv.shards.count * dbs * new KeyTable().bytes,
    dbIndex: new Array<number>(dbs).fill(0),
    dbKeys: new Array<number>(dbs).fill(0),
    index: 0,
    arenaPages: 0,
    arenaUsed: 0,
    keys: 0,
    rss: process.memoryUsage.rss(),
  };
  for (const p of parts) {
    if (p === null) continue;
    const v = readResp(p) as number[];
    fig.arenaPages += v[0]!;
    fig.arenaUsed += v[1]!;
    for (let db = 0; db < v[2]! && db < dbs; db++) {
      fig.dbKeys[db]! += v[3 + 3 * db]!;
      fig.dbIndex[db]! += v[5 + 3 * db]!;
    }
  }
  for (let db = 0; db < dbs; db++) {
    fig.index += fig.dbIndex[db]!;
    fig.keys += fig.dbKeys[db]!;
  }
  fig.total = fig.arenaPages + fig.index;
  // The same figures as INFO memory: used_memory is arena pages + index, the peak is shared.
  srv.peakMemory = Math.max(srv.peakMemory, fig.total);
  fig.peak = srv.peakMemory;
  return fig;
}

/** Ask every shard for its figures (statsPart); `reply` builds the command's reply from the sum. */
function withFigures(c: LocalContext, reply: (f: MemoryFigures, w: RespWriter) => void): void {
  const resp3 = c.conn.resp3;
  const cmd = c.spec.index;
  const reqs = Array.from({ length: c.srv.shards.count }, (_, shard) => ({
    shard,
    cmd,
    args: [] as Buffer[],
  }));
  c.gather(reqs, (parts) => {
    const f = collect(c, parts);
    const w = new RespWriter(1024);
    w.resp3 = resp3;
    reply(f, w);
    return w.take();
  });
}

/**
 * MEMORY STATS with Redis's field names. Tessera's accounting (as INFO memory's used_memory):
 * total.allocated = arena pages + index tables of every shard; overhead.total = the index
 * tables (there are no per-client, replication, AOF or script buffers in the data memory);
 * dataset.bytes = the rest (arena pages). The allocator.* fields describe the arena: allocated
 * = bytes in live chunks + index, active = pages + index, resident = process RSS.
 */
function writeStats(f: MemoryFigures, w: RespWriter): void {
  const overhead = f.index;
  const dataset = f.total - overhead;
  const net = f.total - f.startup;
  const allocated = f.arenaUsed + f.index;
  const active = f.total;
  type Field = [string, number, 'int' | 'double'];
  const before: Field[] = [
    ['peak.allocated', f.peak, 'int'],
    ['total.allocated', f.total, 'int'],
    ['startup.allocated', f.startup, 'int'],
    ['replication.backlog', 0, 'int'],
    ['clients.slaves', 0, 'int'],
    ['clients.normal', 0, 'int'],
    ['cluster.links', 0, 'int'],
    ['aof.buffer', 0, 'int'],
    ['lua.caches', 0, 'int'],
    ['functions.caches', 0, 'int'],
  ];
  const after: Field[] = [
    ['overhead.total', overhead, 'int'],
    ['keys.count', f.keys, 'int'],
    ['keys.bytes-per-key', f.keys > 0 ? Math.floor(Math.max(0, net) / f.keys) : 0, 'int'],
    ['dataset.bytes', dataset, 'int'],
    ['dataset.percentage', net > 0 ? (dataset * 100) / net : 0, 'double'],
    ['peak.percentage', f.peak > 0 ? (f.total * 100) / f.peak : 0, 'double'],
    ['allocator.allocated', allocated, 'int'],
    ['allocator.active', active, 'int'],
    ['allocator.resident', f.rss, 'int'],
    ['allocator-fragmentation.ratio', allocated > 0 ? active / allocated : 0, 'double'],
    ['allocator-fragmentation.bytes', active - allocated, 'int'],
    ['allocator-rss.ratio', active > 0 ? f.rss / active : 0, 'double'],
    ['allocator-rss.bytes', f.rss - active, 'int'],
    ['rss-overhead.ratio', 1, 'double'],
    ['rss-overhead.bytes', 0, 'int'],
    ['fragmentation', allocated > 0 ? f.rss / allocated : 0, 'double'],
    ['fragmentation.bytes', f.rss - allocated, 'int'],
  ];
  const dbs: number[] = [];
  f.dbKeys.forEach((n, db) => {
    if (n > 0) dbs.push(db);
  });
  w.mapHeader(before.length + dbs.length + after.length);
  const put = ([k, v, kind]: Field): void => {
    w.bulkString(k);
    if (kind === 'int') w.integer(v);
    else w.double(f32(v));
  };
  before.forEach(put);
  for (const db of dbs) {
    w.bulkString(`db.${db}`);
    w.mapHeader(3);
    w.bulkString('overhead.hashtable.main');
    w.integer(f.dbIndex[db]!);
    // No expires dictionary: a TTL is a field of the record (see above).
    w.bulkString('overhead.hashtable.expires');
    w.integer(0);
    // Redis's cluster-mode slot index; the slot → shard map is not per key here.
    w.bulkString('overhead.hashtable.slot-to-keys');
    w.integer(0);
  }
  after.forEach(put);
}

const EMPTY_REPORT =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";

/** MEMORY DOCTOR: Redis's report structure over Tessera's figures (arena, index, peak). */
export function memoryReport(f: {
  total: number;
  peak: number;
  arenaPages: number;
  arenaUsed: number;
}): string {
  if (f.total < 5 * 1024 * 1024) return `${EMPTY_REPORT}\n`;
  const issues: string[] = [];
  if (f.peak > f.total * 1.5)
    issues.push(
      ' * Peak memory: In the past this instance used more than 150% the memory that is currently using. The arena keeps its pages after keys are deleted and reuses them for new records, so the memory will be used again as soon as you fill the instance with more data. FLUSHALL returns the pages to the system; otherwise the only option is to restart the instance.',
    );
  const free = f.arenaPages - f.arenaUsed;
  if (f.arenaPages > f.arenaUsed * 1.4 && free > 10 * 1024 * 1024)
    issues.push(
      ` * High arena fragmentation: ${free} bytes of arena pages hold no live record (the pages are kept per size class after deletes or value size changes). They are reused by new records of the same sizes; FLUSHALL or a restart returns them to the system.`,
    );
  if (issues.length === 0)
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  return `Sam, I detected a few issues in this Redis instance memory implants:\n\n${issues.join('\n\n')}\n\nI'm here to keep you safe, Sam. I want to help you.\n`;
}

function doctor(c: LocalContext): void {
  withFigures(c, (f, w) => w.verbatim(memoryReport(f)));
}

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

export const memoryHandlers: Record<string, (c: LocalContext) => void> = {
  'memory|stats': (c) => withFigures(c, writeStats),
  'memory|doctor': doctor,
  'memory|help': (c) => {
    c.out.arrayHeader(MEMORY_HELP.length);
    for (const l of MEMORY_HELP) c.out.simple(l);
  },
};
