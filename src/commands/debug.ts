import { parseInt64 } from '../protocol/numbers.ts';
import { E, sanitize } from '../protocol/redis-errors.ts';
import type { LocalContext } from '../server/local.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { ENC_FORCED_RAW, ENC_NO_INT, ENCODING, LRU, TYPE_STRING } from '../store/record.ts';
import type { CommandDef, ShardContext } from './types.ts';

/**
 * DEBUG, the subset that means something here: SLEEP, OBJECT and HELP; any other subcommand
 * answers Redis's unknown-subcommand error. As in Redis 7, DEBUG is refused unless
 * enable-debug-command is "yes", or "local" and the client connected over loopback.
 *
 * DEBUG SLEEP blocks the main thread, so every client stalls for that long (that is what it is
 * for: reproducing a stalled server). The shards keep running, and their replies wait in the
 * rings until the main thread wakes up.
 */

export const DEBUG_NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

/** OBJECT ENCODING of a string record, as keys.ts derives it (Redis tryObjectEncoding). */
function encodingOf(ks: Keyspace, h: number): string {
  if (ks.type(h) !== TYPE_STRING) return ks.getObject(h).encoding();
  const r = ks.arena.u8(h);
  const enc = r[ks.arena.base(h) + ENCODING];
  if (enc === ENC_FORCED_RAW) return 'raw';
  const vl = ks.valueLength(h);
  if (enc !== ENC_NO_INT && vl <= 20 && parseInt64(r, ks.valueOffset(h), vl) !== null) return 'int';
  return vl <= 44 ? 'embstr' : 'raw';
}

/** Redis rdbSaveLen: bytes of an RDB length prefix. */
function rdbLenBytes(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n <= 0xffffffff ? 5 : 9;
}

/** Redis rdbEncodeInteger: 2, 3 or 5 bytes for values fitting int8/16/32, else 0. */
function rdbIntBytes(v: bigint): number {
  if (v >= -128n && v <= 127n) return 2;
  if (v >= -32768n && v <= 32767n) return 3;
  if (v >= -2147483648n && v <= 2147483647n) return 5;
  return 0;
}

/**
 * What the value would take in an RDB file (Redis rdbSavedObjectLen for strings): an integer
 * encoding when it fits 32 bits, else length prefix + bytes. Tessera writes no RDB, and LZF
 * compression (Redis tries it above 20 bytes) is not modelled, so long compressible values
 * report their uncompressed length.
 */
function serializedLength(ks: Keyspace, h: number, encoding: string): number {
  if (ks.type(h) !== TYPE_STRING) {
    // Collections: the sum of their elements' length-prefixed bytes (no listpack blob model).
    let n = rdbLenBytes(ks.getObject(h).size);
    for (const it of ks.getObject(h).dump()) n += rdbLenBytes(it.length) + it.length;
    return n;
  }
  const r = ks.arena.u8(h);
  const vo = ks.valueOffset(h);
  const vl = ks.valueLength(h);
  if (encoding === 'int' || vl <= 11) {
    const v = parseInt64(r, vo, vl);
    if (v !== null) {
      const n = rdbIntBytes(v);
      if (n > 0) return n;
      if (encoding === 'int') return rdbLenBytes(vl) + vl;
    }
  }
  return rdbLenBytes(vl) + vl;
}

/** Shard part of DEBUG OBJECT key (main checked the permission and the arguments). */
function debugObject(c: ShardContext): void {
  const { ks, req, out } = c;
  const h = ks.lookup(req.db, req.u8, req.off[1]!, req.len[1]!);
  if (h === 0) return out.error(E.NO_SUCH_KEY);
  const enc = encodingOf(ks, h);
  const lru = ks.arena.i32(h)[(ks.arena.base(h) + LRU) >> 2]!;
  const idle = Math.max(0, ((ks.now / 1000) | 0) - lru);
  // "Value at" names the record: shard number, then its arena handle.
  const at = `0x${c.shardId.toString(16)}${(h >>> 0).toString(16).padStart(8, '0')}`;
  out.simple(
    `Value at:${at} refcount:1 encoding:${enc} serializedlength:${serializedLength(ks, h, enc)} lru:${lru & 0xffffff} lru_seconds_idle:${idle}`,
  );
}

export const debugCommands: CommandDef[] = [
  {
    name: 'debug',
    route: 'local',
    shard: (c) => {
      if (c.req.is(0, 'OBJECT')) return debugObject(c);
      c.out.error(E.SYNTAX);
    },
  },
];

function isLocalClient(c: LocalContext): boolean {
  const a = c.conn.socket.remoteAddress;
  if (a === undefined) return true; // a Unix socket has no remote address
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
}

/** enable-debug-command: yes, or local for loopback clients (Redis allowProtectedAction). */
export function debugAllowed(c: LocalContext): boolean {
  const mode = c.srv.config.get('enable-debug-command');
  return mode === 'yes' || (mode === 'local' && isLocalClient(c));
}

/** Block the calling thread for `ms` milliseconds (no timers, no event loop: nothing runs). */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Redis reads DEBUG SLEEP's argument with strtod: a leading number, anything else is 0. */
function strtod(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s);
  if (m) return Number(m[0]);
  const special = /^\s*([+-]?)(inf(inity)?|nan)/i.exec(s);
  if (!special) return 0;
  if (special[2]!.toLowerCase() === 'nan') return 0;
  return special[1] === '-' ? -Infinity : Infinity;
}

const DEBUG_HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'OBJECT <key>',
  '    Show low level info about `key` and associated value.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'HELP',
  '    Prints this help.',
];

function debug(c: LocalContext): void {
  if (!debugAllowed(c)) return c.out.error(DEBUG_NOT_ALLOWED);
  const sub = c.str(0);
  if (c.argc === 1 && c.is(0, 'HELP')) {
    c.out.arrayHeader(DEBUG_HELP.length);
    for (const l of DEBUG_HELP) c.out.simple(l);
    return;
  }
  if (c.argc === 2 && c.is(0, 'SLEEP')) {
    const seconds = strtod(c.str(1));
    // Redis converts to whole microseconds; a negative time does not sleep.
    const us = Math.trunc(seconds * 1e6);
    if (us > 0) blockFor(Number.isFinite(us) ? us / 1000 : 2 ** 31 - 1);
    return c.out.ok();
  }
  if (c.argc === 2 && c.is(0, 'OBJECT')) {
    const key = c.arg(1);
    const shard = c.srv.shards.shardOf(key, 0, key.length);
    return c.forward(shard, c.spec.index, [c.argCopy(0), c.argCopy(1)]);
  }
  c.out.error(
    sanitize(
      `ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try DEBUG HELP.`,
    ),
  );
}

export const debugHandlers: Record<string, (c: LocalContext) => void> = { debug };
