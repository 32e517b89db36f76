import { parseMemory } from '../config/params.ts';

/**
 * client-output-buffer-limit: per client class a hard limit, a soft limit and the seconds the
 * soft limit may be exceeded (Redis config.c / networking.c). A client whose pending output
 * reaches the hard limit, or stays at or above the soft limit for longer than the soft
 * seconds, is disconnected. Classes: normal, replica (written "slave" like Redis's CONFIG
 * GET), pubsub. 0 disables a limit; normal defaults to 0 0 0 (unlimited).
 */

export interface ClassLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

const NAMES = ['normal', 'slave', 'pubsub'] as const;
const CLASS_INDEX: Record<string, number> = { normal: 0, slave: 1, replica: 1, pubsub: 2 };

export const OBUF_DEFAULT = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';

const ERR_ARGS = 'Wrong number of arguments in buffer limit configuration.';
const ERR_CLASS = 'Invalid client class specified in buffer limit configuration.';
const ERR_VALUES = 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';

/** The three classes of a canonical value string. */
export function parseLimits(canonical: string): ClassLimit[] {
  const a = canonical.split(' ');
  const out: ClassLimit[] = [];
  for (let j = 0; j < 12; j += 4) {
    out.push({ hard: Number(a[j + 1]), soft: Number(a[j + 2]), softSeconds: Number(a[j + 3]) });
  }
  return out;
}

function format(limits: ClassLimit[]): string {
  return limits.map((l, i) => `${NAMES[i]} ${l.hard} ${l.soft} ${l.softSeconds}`).join(' ');
}

/** strtoll(s, &end, 10) with *end == '\0', as Redis checks soft_seconds (only an empty string has no digits). */
function parseSeconds(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)$/.exec(s);
  if (m === null || (m[2] === '' && s !== '')) return undefined;
  const n = m[2] === '' ? 0 : Number(m[2]);
  return m[1] === '-' ? -n : n;
}

/**
 * CONFIG SET / config file value: `<class> <hard> <soft> <soft seconds>` groups split on single
 * spaces (Redis sdssplitlen), merged into `current`; all groups are checked before any applies.
 * Returns the new canonical string or an error message (Redis's wording).
 */
export function mergeLimits(raw: string, current: string): string | { error: string } {
  const argv = raw === '' ? [] : raw.split(' ');
  if (argv.length % 4 !== 0) return { error: ERR_ARGS };
  const limits = parseLimits(current);
  const updates: [number, ClassLimit][] = [];
  for (let j = 0; j < argv.length; j += 4) {
    const cls = CLASS_INDEX[argv[j]!.toLowerCase()];
    if (cls === undefined) return { error: ERR_CLASS };
    const hard = parseMemory(argv[j + 1]!);
    const soft = parseMemory(argv[j + 2]!);
    const secs = parseSeconds(argv[j + 3]!);
    if (hard === undefined || soft === undefined || secs === undefined || secs < 0)
      return { error: ERR_VALUES };
    updates.push([cls, { hard, soft, softSeconds: secs }]);
  }
  for (const [cls, l] of updates) limits[cls] = l;
  return format(limits);
}

/** What the server needs of a connection to judge it. */
export interface LimitedClient {
  subscribed: boolean;
  /** Unix seconds when the soft limit was first seen exceeded, 0 when it is not. */
  softLimitSince: number;
  outputBytes(): number;
}

export class OutputLimits {
  normal: ClassLimit;
  pubsub: ClassLimit;
  /** Clients disconnected for exceeding their limit (metrics). */
  disconnections = 0;

  constructor(canonical: string) {
    const l = parseLimits(canonical);
    this.normal = l[0]!;
    this.pubsub = l[2]!;
  }

  set(canonical: string): void {
    const l = parseLimits(canonical);
    this.normal = l[0]!;
    this.pubsub = l[2]!;
  }

  /**
   * Redis checkClientOutputBufferLimits: true when `c` must be closed. The soft limit counts
   * only once it was exceeded continuously for more than the soft seconds (whole seconds, as
   * Redis's server.unixtime).
   */
  exceeded(c: LimitedClient, nowMs?: number): boolean {
    // MONITOR clients count as normal; replicas do not exist yet.
    const l = c.subscribed ? this.pubsub : this.normal;
    if (l.hard === 0 && l.soft === 0) return false;
    const used = c.outputBytes();
    const hard = l.hard > 0 && used >= l.hard;
    let soft = l.soft > 0 && used >= l.soft;
    if (soft) {
      const now = Math.floor((nowMs ?? Date.now()) / 1000);
      if (c.softLimitSince === 0) {
        c.softLimitSince = now;
        soft = false;
      } else if (now - c.softLimitSince <= l.softSeconds) soft = false;
    } else c.softLimitSince = 0;
    return hard || soft;
  }

  /** Whether connections of the normal class can ever exceed (skips the check on every flush). */
  get normalLimited(): boolean {
    return this.normal.hard !== 0 || this.normal.soft !== 0;
  }
}
