import { renderInfo } from '../observability/info.ts';
import { errorStats } from '../observability/error-stats.ts';
import { E } from '../protocol/redis-errors.ts';
import { ConfigError } from '../util/errors.ts';
import type { LocalContext } from '../server/local.ts';
import { arrayElements, readInt } from '../server/combine.ts';
import { commandByName } from './table.ts';
import type { ShutdownSave } from '../persistence/shutdown-save.ts';

/** Server family and keyspace commands that need the main thread's view (all shards). */

const cmdIndex = (name: string): number => commandByName(name)!.index;

function info(c: LocalContext): void {
  const sections: string[] = [];
  for (let i = 0; i < c.argc; i++) sections.push(c.str(i));
  c.out.verbatim(renderInfo(c.srv, sections));
}

function time(c: LocalContext): void {
  const us = BigInt(Math.round(performance.timeOrigin * 1000 + performance.now() * 1000));
  c.out.arrayHeader(2);
  c.out.bulkString(String(us / 1000000n));
  c.out.bulkString(String(us % 1000000n));
}

function configGet(c: LocalContext): void {
  const patterns: string[] = [];
  for (let i = 0; i < c.argc; i++) patterns.push(c.str(i));
  const [first, ...rest] = patterns;
  const pairs = c.srv.config.getMatching(first!, ...rest);
  c.out.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    c.out.bulkString(k);
    c.out.bulkString(v);
  }
}

function configSet(c: LocalContext): void {
  // Arity (-4) guarantees one pair; an odd remainder is Redis's syntax error.
  if (c.argc % 2 !== 0) return c.out.error(E.SYNTAX);
  const pairs: [string, string][] = [];
  for (let i = 0; i < c.argc; i += 2) pairs.push([c.str(i), c.str(i + 1)]);
  try {
    c.srv.config.set(pairs);
  } catch (err) {
    if (err instanceof ConfigError) return c.out.error(err.message);
    throw err;
  }
  c.out.ok();
}

function configResetstat(c: LocalContext): void {
  c.srv.commandStats.reset();
  // Redis counts a command after it ran, so this RESETSTAT is the first call of the new period.
  c.srv.commandStats.calls[c.spec.index] = 1;
  errorStats.reset();
  const st = c.srv.stats;
  st.totalConnections = 0;
  st.rejectedConnections = 0;
  st.netInput = 0;
  st.netOutput = 0;
  st.protocolErrors = 0;
  c.out.ok();
}

function shutdown(c: LocalContext): void {
  // Redis shutdownCommand: NOSAVE with SAVE, or ABORT with anything else, is a syntax error.
  const seen = new Set<string>();
  for (let i = 0; i < c.argc; i++) {
    const opt = c.str(i).toUpperCase();
    if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].includes(opt)) return c.out.error(E.SYNTAX);
    seen.add(opt);
  }
  const abort = seen.delete('ABORT');
  if ((abort && seen.size > 0) || (seen.has('NOSAVE') && seen.has('SAVE')))
    return c.out.error(E.SHUTDOWN_NOSAVE_SAVE);
  if (abort) return c.out.error('ERR No shutdown in progress.');
  const save: ShutdownSave = seen.has('NOSAVE') ? 'nosave' : seen.has('SAVE') ? 'save' : 'default';
  // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes. The empty
  // reply uses up the command's place in the reply order, so the drain does not wait for it.
  c.srv.log.warn({ client: c.conn.id, save }, 'SHUTDOWN requested by client');
  void c.srv.shutdown(0, save);
}

/**
 * SCAN across shards: the cursor encodes (position in shard, shard index) as
 * position × shards + shard, so one cursor walks every shard in turn.
 */
function scan(c: LocalContext): void {
  const cursor = parseCursor(c.str(0));
  if (cursor === null) return c.out.error(E.INVALID_CURSOR);
  const opts: Buffer[] = [];
  for (let j = 1; j < c.argc; j++) {
    if (j + 1 >= c.argc) return c.out.error(E.SYNTAX);
    if (c.is(j, 'COUNT')) {
      const v = c.str(j + 1);
      // Redis getLongFromObjectOrReply: strict integer within a signed 64-bit long.
      if (!/^-?(0|[1-9]\d*)$/.test(v) || BigInt(v) > INT64_MAX || BigInt(v) < -INT64_MAX - 1n)
        return c.out.error(E.NOT_INTEGER);
      if (Number(v) < 1) return c.out.error(E.SYNTAX);
      // The shard parses COUNT as a safe integer; anything that large means "everything".
      opts.push(c.argCopy(j), Buffer.from(String(Math.min(Number(v), 2 ** 31))));
    } else if (c.is(j, 'MATCH') || c.is(j, 'TYPE')) opts.push(c.argCopy(j), c.argCopy(j + 1));
    else return c.out.error(E.SYNTAX);
    j++;
  }
  const n = c.srv.shards.count;
  const shard = Number(cursor % BigInt(n));
  const innerBig = cursor / BigInt(n);
  // Not a cursor Tessera handed out: like an out-of-range Redis cursor, the scan is over.
  if (innerBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    c.out.arrayHeader(2);
    c.out.bulkString('0');
    c.out.arrayHeader(0);
    return;
  }
  const inner = Number(innerBig);
  const resp3 = c.conn.resp3;
  c.forward(shard, cmdIndex('scan'), [Buffer.from(String(inner)), ...opts], (reply) => {
    const el = arrayElements(reply);
    const line = reply.subarray(el[0]!, el[1]!);
    const next = Number(line.toString('latin1', line.indexOf(10) + 1, line.length - 2));
    const outer = next === 0 ? (shard + 1 < n ? shard + 1 : 0) : next * n + shard;
    const keys = reply.subarray(el[1]!, el[2]!);
    void resp3;
    const head = Buffer.from(`*2\r\n$${String(outer).length}\r\n${outer}\r\n`);
    return Buffer.concat([head, keys]);
  });
}

const INT64_MAX = 9223372036854775807n;

/**
 * Redis parseScanCursorOrReply uses strtoul: an optional sign ("-1" wraps to 2^64-1), digits,
 * no leading space or trailing junk, and the empty string is cursor 0.
 */
function parseCursor(s: string): bigint | null {
  if (s === '') return 0n;
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[2]!);
  if (v > 0xffffffffffffffffn) return null;
  return m[1] === '-' && v !== 0n ? (1n << 64n) - v : v;
}

function randomkey(c: LocalContext): void {
  const n = c.srv.shards.count;
  const reqs = Array.from({ length: n }, (_, shard) => ({
    shard,
    cmd: cmdIndex('randomkey'),
    args: [] as Buffer[],
  }));
  const nil = Buffer.from(c.conn.resp3 ? '_\r\n' : '$-1\r\n');
  c.gather(reqs, (parts) => {
    const hits = parts.filter((p): p is Buffer => p !== null && p[0] === 36 && p[1] !== 45);
    return hits.length === 0 ? nil : hits[Math.floor(Math.random() * hits.length)]!;
  });
}

function swapdb(c: LocalContext): void {
  const a = c.str(0);
  const b = c.str(1);
  const isInt = (s: string): boolean => /^-?(0|[1-9]\d*)$/.test(s) && Math.abs(Number(s)) <= 2147483647;
  if (!isInt(a)) return c.out.error('ERR invalid first DB index');
  if (!isInt(b)) return c.out.error('ERR invalid second DB index');
  const dbs = c.srv.config.get('databases');
  if (Number(a) < 0 || Number(a) >= dbs || Number(b) < 0 || Number(b) >= dbs) return c.out.error(E.DB_RANGE);
  const n = c.srv.shards.count;
  const args = [Buffer.from(a), Buffer.from(b)];
  const reqs = Array.from({ length: n }, (_, shard) => ({ shard, cmd: cmdIndex('swapdb'), args }));
  c.gather(reqs, () => Buffer.from('+OK\r\n'));
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

export const serverHandlers: Record<string, (c: LocalContext) => void> = {
  info,
  time,
  'config|get': configGet,
  'config|set': configSet,
  'config|resetstat': configResetstat,
  shutdown,
  scan,
  randomkey,
  swapdb,
  'object|help': (c) => {
    c.out.arrayHeader(OBJECT_HELP.length);
    for (const l of OBJECT_HELP) c.out.simple(l);
  },
};
void readInt;
