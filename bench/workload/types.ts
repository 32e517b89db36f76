/**
 * A workload after validation and defaults: what the load generator and the report consume.
 * Plain data only (it is structured-cloned into every load-generator thread).
 */
import type { Distribution } from '../gen/keys.ts';

export const COMMANDS = [
  'GET',
  'SET',
  'INCR',
  'MSET',
  'MGET',
  'LPUSH',
  'LPOP',
  'HSET',
  'HGET',
  'ZADD',
  'ZRANGE',
  'SADD',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface MixEntry {
  command: CommandName;
  /** Share of requests in [0, 1]; the entries of one workload sum to 1. */
  share: number;
  /** SET: seconds for EX (0 = no TTL). */
  ttl: number;
  /** MSET/MGET: keys per command (1 for the others). */
  keys: number;
  /** HSET/HGET: distinct fields per hash. */
  fields: number;
  /** ZRANGE: members requested. */
  count: number;
}

export interface Workload {
  name: string;
  description: string;
  /** Where it came from, for error messages and the report. */
  file: string;
  suites: string[];
  mode: 'closed' | 'open';
  /** Open loop: requests per second over all connections (0 in closed loop). */
  rate: number;
  keys: number;
  distribution: Distribution;
  skew: number;
  prefix: string;
  valueSize: number;
  pipeline: number;
  connections: number;
  preload: boolean;
  /** CONFIG SET pairs applied to every target for this workload (values as strings). */
  server: Record<string, string>;
  mix: MixEntry[];
}

/** GET/MGET may legitimately miss when keys were not preloaded, can expire or be evicted. */
export function nilAllowed(w: Workload): boolean {
  return !w.preload || w.mix.some((m) => m.ttl > 0) || evicts(w);
}

/** The workload runs under a memory limit: reads may miss, and the report shows hit rates. */
export function evicts(w: Workload): boolean {
  return w.server.maxmemory !== undefined && w.server.maxmemory !== '0';
}
