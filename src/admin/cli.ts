/**
 * tessera-admin: operator CLI for a running Tessera (or any RESP server for the Redis
 * commands). Talks RESP over its own raw connection (src/admin/resp.ts).
 *   tessera-admin [-h host] [-p port] [-a pass | TESSERA_PASSWORD] [--user u] <command> [args]
 * Exit status: 0 success; 1 unreachable, refused, or an error reply; 2 usage error or a
 * feature the server does not have.
 */
import { PARAMS } from '../config/params.ts';
import { TESSERA_VERSION } from '../version.ts';
import { pairsToMap, plain, renderSlowlog, renderStats, slowlogEntries, table } from './format.ts';
import { ConnectionError, ReplyError, RespConnection, type Reply } from './resp.ts';
import { AdminError } from '../util/errors.ts';
import { HELP, MAIN_HELP } from './help.ts';
import { checkWal } from './check-wal.ts';

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

export { AdminError };

interface Options {
  host: string;
  port: number;
  pass: string | null;
  user: string | null;
  timeoutMs: number;
  authWarning: boolean;
  passOnCommandLine: boolean;
  json: boolean;
  watch: number | null;
  showSecrets: boolean;
  /** check-wal --repair */
  repair: boolean;
  help: boolean;
  version: boolean;
  args: string[];
}

function usage(message: string): AdminError {
  return new AdminError(`${message} (see tessera-admin --help)`, EXIT_USAGE);
}

/** Parses options anywhere on the line; `--` ends them, and negative numbers are arguments. */
export function parseArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Options {
  const o: Options = {
    host: '127.0.0.1',
    port: 6379,
    pass: env.TESSERA_PASSWORD !== undefined && env.TESSERA_PASSWORD !== '' ? env.TESSERA_PASSWORD : null,
    user: null,
    timeoutMs: 5000,
    authWarning: true,
    passOnCommandLine: false,
    json: false,
    watch: null,
    showSecrets: false,
    repair: false,
    help: false,
    version: false,
    args: [],
  };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw usage(`${flag} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      o.args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || /^-\d/.test(a)) {
      o.args.push(a);
      continue;
    }
    switch (a) {
      case '-h':
      case '--host':
        o.host = value(a);
        break;
      case '-p':
      case '--port': {
        const v = value(a);
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw usage(`invalid port '${v}'`);
        o.port = n;
        break;
      }
      case '-a':
      case '--pass':
        o.pass = value(a);
        o.passOnCommandLine = true;
        break;
      case '--user':
        o.user = value(a);
        break;
      case '--timeout': {
        const v = value(a);
        const n = Number(v);
        if (!(n > 0) || !Number.isFinite(n)) throw usage(`invalid timeout '${v}'`);
        o.timeoutMs = n * 1000;
        break;
      }
      case '--no-auth-warning':
        o.authWarning = false;
        break;
      case '--json':
        o.json = true;
        break;
      case '--show-secrets':
        o.showSecrets = true;
        break;
      case '--watch': {
        const next = argv[i + 1];
        if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
          o.watch = Number(next);
          i++;
          if (!(o.watch > 0)) throw usage('--watch needs a positive number of seconds');
        } else o.watch = 1;
        break;
      }
      case '--repair':
        o.repair = true;
        break;
      case '--help':
        o.help = true;
        break;
      case '-v':
      case '--version':
        o.version = true;
        break;
      default:
        throw usage(`unknown option '${a}'`);
    }
  }
  return o;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stdout is a terminal (--watch redraws in place). */
  tty: boolean;
}

const SECRETS = new Set([...PARAMS.filter((p) => p.secret).map((p) => p.name as string), 'masterauth']);

/** Runs one invocation; returns the exit status. Never prints the password. */
export async function run(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: Io,
): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv, env);
  } catch (e) {
    if (e instanceof AdminError) {
      io.err(`tessera-admin: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
  const [cmd, ...rest] = o.args;
  if (o.version) {
    io.out(`tessera-admin ${TESSERA_VERSION}\n`);
    return EXIT_OK;
  }
  if (cmd === undefined || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    if (topic !== undefined && HELP[topic] === undefined) {
      io.err(`tessera-admin: no help for unknown command '${topic}' (see tessera-admin --help)\n`);
      return EXIT_USAGE;
    }
    if (topic === undefined && !o.help && cmd === undefined) {
      io.err(`${MAIN_HELP}\n`);
      return EXIT_USAGE;
    }
    io.out(`${topic !== undefined ? HELP[topic] : MAIN_HELP}\n`);
    return EXIT_OK;
  }
  if (HELP[cmd] === undefined) {
    io.err(`tessera-admin: unknown command '${cmd}' (see tessera-admin --help)\n`);
    return EXIT_USAGE;
  }
  if (o.help) {
    io.out(`${HELP[cmd]}\n`);
    return EXIT_OK;
  }
  // Offline: reads the data directory, never connects.
  if (cmd === 'check-wal') return checkWal(rest, o.repair, io);
  if (o.passOnCommandLine && o.authWarning) {
    io.err(
      "Warning: using a password with '-a' or '--pass' on the command line may not be safe; " +
        'set TESSERA_PASSWORD instead.\n',
    );
  }
  let conn: RespConnection | null = null;
  try {
    validate(cmd, rest, o);
    conn = await open(o);
    return await COMMANDS[cmd]!(conn, rest, o, io);
  } catch (e) {
    if (e instanceof AdminError || e instanceof ConnectionError) {
      io.err(`tessera-admin: ${e.message}\n`);
      return e instanceof AdminError ? e.exitCode : EXIT_FAIL;
    }
    throw e;
  } finally {
    conn?.close();
  }
}

/** Argument counts, checked before connecting so usage errors never touch the server. */
function validate(cmd: string, rest: string[], o: Options): void {
  const n = rest.length;
  const bad = (what: string): never => {
    throw usage(`${cmd}: ${what}`);
  };
  if (o.watch !== null && cmd !== 'stats') bad('--watch only applies to stats');
  switch (cmd) {
    case 'stats':
    case 'ping':
      if (n > 0) bad(`unexpected argument '${rest[0]}'`);
      break;
    case 'slowlog':
      if (n > 1 || (n === 1 && !/^\d+$/.test(rest[0]!))) bad('expects at most one count (a number)');
      break;
    case 'config': {
      const sub = rest[0]?.toLowerCase();
      if (sub === 'get' && n !== 2) bad('get expects one PATTERN');
      else if (sub === 'set' && n !== 3) bad('set expects NAME VALUE');
      else if (sub === 'rewrite' && n !== 1) bad('rewrite takes no arguments');
      else if (sub !== 'get' && sub !== 'set' && sub !== 'rewrite') bad('expects get, set or rewrite');
      break;
    }
  }
}

/** Connects, authenticates and switches to RESP3 when the server supports it. */
async function open(o: Options): Promise<RespConnection> {
  const conn = await RespConnection.connect({ host: o.host, port: o.port, timeoutMs: o.timeoutMs });
  try {
    if (o.pass !== null) {
      const r = await conn.call('AUTH', ...(o.user !== null ? [o.user] : []), o.pass);
      if (r instanceof ReplyError) {
        if (r.code === 'WRONGPASS' || r.message.includes('invalid password')) {
          throw new AdminError(`authentication failed: ${r.message}`);
        }
        throw new AdminError(`server refused: ${r.message}`);
      }
    }
    const hello = await conn.call('HELLO', '3');
    if (hello instanceof ReplyError) {
      if (hello.code === 'NOAUTH') throw noauth(hello);
      // Servers without RESP3 (or HELLO) still work: the replies are converted from RESP2.
      if (hello.code !== 'NOPROTO' && !/unknown command/i.test(hello.message)) {
        throw new AdminError(`server refused: ${hello.message}`);
      }
    }
  } catch (e) {
    conn.close();
    throw e;
  }
  return conn;
}

function noauth(r: ReplyError): AdminError {
  return new AdminError(`the server requires a password (${r.code}): set TESSERA_PASSWORD or pass -a/--pass`);
}

/** Sends a command; error replies become AdminErrors (NOAUTH explained). */
async function call(conn: RespConnection, ...args: string[]): Promise<Reply> {
  const r = await conn.call(...args);
  if (r instanceof ReplyError) {
    if (r.code === 'NOAUTH') throw noauth(r);
    throw new AdminError(`${args[0]!.toLowerCase()}: ${r.message}`);
  }
  return r;
}

type Command = (conn: RespConnection, args: string[], o: Options, io: Io) => Promise<number>;

const where = (o: Options): string => `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;

async function fetchStats(conn: RespConnection): Promise<Record<string, unknown>> {
  const r = await conn.call('STATS');
  if (r instanceof ReplyError) {
    if (r.code === 'NOAUTH') throw noauth(r);
    if (/unknown command/i.test(r.message)) {
      throw new AdminError(`stats: this server has no STATS command (${r.message})`, EXIT_USAGE);
    }
    throw new AdminError(`stats: ${r.message}`);
  }
  return plain(pairsToMap(r, ['total', 'shards'])) as Record<string, unknown>;
}

const stats: Command = async (conn, _args, o, io) => {
  const show = async (): Promise<void> => {
    const s = await fetchStats(conn);
    if (o.json) io.out(JSON.stringify(s, null, o.watch === null ? 2 : undefined) + '\n');
    else if (o.watch !== null && io.tty) io.out(`\x1b[H\x1b[2J${renderStats(s, where(o))}\n`);
    else io.out(`${renderStats(s, where(o))}\n${o.watch !== null ? '\n' : ''}`);
  };
  await show();
  if (o.watch === null) return EXIT_OK;
  // Like top: redraw every interval until Ctrl-C (or SIGTERM), then exit 0.
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (;;) {
    const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), o.watch! * 1000));
    if ((await Promise.race([tick, stop])) !== 'tick') return EXIT_OK;
    await show();
  }
};

const config: Command = async (conn, args, o, io) => {
  const sub = args[0]!.toLowerCase();
  if (sub === 'set') {
    io.out(`${String(await call(conn, 'CONFIG', 'SET', args[1]!, args[2]!))}\n`);
    return EXIT_OK;
  }
  if (sub === 'rewrite') {
    io.out(`${String(await call(conn, 'CONFIG', 'REWRITE'))}\n`);
    return EXIT_OK;
  }
  const r = pairsToMap(await call(conn, 'CONFIG', 'GET', args[1]!));
  const pairs = r instanceof Map ? [...r].map(([k, v]) => [k, String(v ?? '')] as [string, string]) : [];
  pairs.sort((a, b) => a[0].localeCompare(b[0]));
  const shown = pairs.map(([k, v]): [string, string] => [
    k,
    SECRETS.has(k.toLowerCase()) && !o.showSecrets && v !== '' ? '(hidden)' : v,
  ]);
  if (o.json) io.out(JSON.stringify(Object.fromEntries(shown), null, 2) + '\n');
  else if (shown.length === 0) io.out(`(no parameter matches '${args[1]}')\n`);
  else io.out(`${table(['name', 'value'], shown, 'll')}\n`);
  return EXIT_OK;
};

const info: Command = async (conn, args, _o, io) => {
  const r = await call(conn, 'INFO', ...args);
  io.out(`${String(r).replaceAll('\r\n', '\n').trimEnd()}\n`);
  return EXIT_OK;
};

const slowlog: Command = async (conn, args, o, io) => {
  const r = await conn.call('SLOWLOG', 'GET', ...(args.length > 0 ? args : ['10']));
  if (r instanceof ReplyError) {
    if (r.code === 'NOAUTH') throw noauth(r);
    if (/unknown (sub)?command/i.test(r.message)) {
      throw new AdminError(`slowlog: this server does not support SLOWLOG (${r.message})`, EXIT_USAGE);
    }
    throw new AdminError(`slowlog: ${r.message}`);
  }
  const entries = slowlogEntries(r);
  io.out(o.json ? JSON.stringify(entries, null, 2) + '\n' : `${renderSlowlog(entries)}\n`);
  return EXIT_OK;
};

const ping: Command = async (conn, _args, _o, io) => {
  const t0 = performance.now();
  const r = await call(conn, 'PING');
  io.out(`${String(r)} (${(performance.now() - t0).toFixed(2)} ms)\n`);
  return EXIT_OK;
};

const COMMANDS: Record<string, Command> = { stats, config, info, slowlog, ping };
