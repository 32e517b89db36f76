/**
 * JSON-lines logging via pino. Output goes to fd 1 through a synchronous destination: a cache
 * daemon logs rarely (never per command), and sync writes mean no lines are lost when the
 * process exits or crashes, without flush-on-exit plumbing.
 */
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { PARAMS } from '../config/params.ts';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** A Redis loglevel name (debug, verbose, notice, warning, nothing) or a pino level name. */
  level: string;
  name?: string;
  bindings?: object;
  /** Where lines go instead of fd 1 (tests capture output this way). */
  destination?: DestinationStream;
}

/** Keys whose values never reach a log line, at any of the first three nesting levels. */
export const SECRET_KEYS: readonly string[] = Object.freeze([
  ...new Set([
    ...PARAMS.filter((p) => p.secret).map((p) => p.name),
    'masterauth',
    'password',
    'pass',
    'auth',
  ]),
]);

const CENSOR = '(redacted)';

// Redis levels mapped onto pino's; pino has nothing between debug and info, so Redis "verbose"
// shares pino "debug" with Redis "debug".
const REDIS_TO_PINO: Readonly<Record<string, LevelWithSilent>> = {
  debug: 'debug',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
  nothing: 'silent',
};
const PINO_LEVELS: ReadonlySet<string> = new Set([
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
]);

/** Maps a loglevel config value (Redis or pino name, any case) to a pino level. */
export function toPinoLevel(level: string): LevelWithSilent {
  const l = level.toLowerCase();
  const mapped = REDIS_TO_PINO[l] ?? (PINO_LEVELS.has(l) ? (l as LevelWithSilent) : undefined);
  if (mapped === undefined) throw new RangeError(`unknown log level '${level}'`);
  return mapped;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const logger = pino(
    {
      level: toPinoLevel(opts.level),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      redact: { paths, censor: CENSOR },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  return opts.bindings ? logger.child(opts.bindings) : logger;
}

/** For CONFIG SET loglevel: accepts Redis names, which `logger.level = ...` alone would reject. */
export function setLogLevel(logger: Logger, level: string): void {
  logger.level = toPinoLevel(level);
}

/**
 * A shallow copy of a config with secret values replaced, for logging the effective config.
 * Empty secrets stay empty: "no password set" is useful to see and reveals nothing.
 */
export function redactConfig<T extends object>(cfg: T): T {
  const out = { ...cfg } as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    if (key in out && out[key] !== '' && out[key] !== undefined && out[key] !== null) out[key] = CENSOR;
  }
  return out as T;
}
