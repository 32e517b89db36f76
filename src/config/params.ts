/**
 * The configuration parameter table: what config/schema.json cannot express (how a raw string is
 * parsed, whether CONFIG SET may change it, whether it is secret, aliases). Validation rules
 * (ranges, enums, patterns) stay in the schema so there is one place to change them.
 */
import schemaJson from '../../config/schema.json' with { type: 'json' };
import { VALUE_PARSERS } from './redis-values.ts';

export type LogLevelName =
  | 'debug'
  | 'verbose'
  | 'notice'
  | 'warning'
  | 'nothing'
  | 'trace'
  | 'info'
  | 'warn'
  | 'error'
  | 'fatal'
  | 'silent';

export type MaxmemoryPolicy =
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'noeviction';

/** Every parameter with its runtime type. Byte sizes are plain integers once parsed. */
export interface ConfigValues {
  bind: readonly string[];
  port: number;
  shards: number;
  dir: string;
  loglevel: LogLevelName;
  requirepass: string;
  'protected-mode': boolean;
  maxclients: number;
  timeout: number;
  'tcp-keepalive': number;
  databases: number;
  'proto-max-bulk-len': number;
  'client-query-buffer-limit': number;
  'ring-size': number;
  hz: number;
  pidfile: string;
  save: string;
  'active-expire-budget-ms': number;
  'slowlog-log-slower-than': number;
  'slowlog-max-len': number;
  'latency-monitor-threshold': number;
  'enable-debug-command': 'no' | 'yes' | 'local';
  'metrics-port': number;
  'metrics-bind': string;
  appendonly: boolean;
  appendfsync: 'always' | 'everysec' | 'no';
  'auto-aof-rewrite-percentage': number;
  'auto-aof-rewrite-min-size': number;
  'wal-repair': boolean;
  maxmemory: number;
  'maxmemory-policy': MaxmemoryPolicy;
  'maxmemory-samples': number;
  'lfu-log-factor': number;
  'lfu-decay-time': number;
  'lazyfree-lazy-eviction': boolean;
  'lazyfree-lazy-expire': boolean;
  'lazyfree-lazy-server-del': boolean;
  'lazyfree-lazy-user-del': boolean;
  'lazyfree-lazy-user-flush': boolean;
  'shutdown-timeout': number;
  'notify-keyspace-events': string;
  'client-output-buffer-limit': string;
}

export type ParamName = keyof ConfigValues;
export type ParamType = 'int' | 'bytes' | 'bool' | 'string' | 'enum' | 'list';

export interface ParamSpec {
  readonly name: ParamName;
  readonly type: ParamType;
  /** May be changed with CONFIG SET. */
  readonly mutable: boolean;
  /** Never logged; redacted by the logger and by redactConfig(). */
  readonly secret: boolean;
  /** Other names accepted for this parameter (case-insensitive like every name). */
  readonly aliases: readonly string[];
}

// Ties each declared `type` to the TypeScript type in ConfigValues, so the two cannot drift apart.
type KindOf<V> = V extends boolean
  ? 'bool'
  : V extends number
    ? 'int' | 'bytes'
    : V extends readonly string[]
      ? 'list'
      : 'string' | 'enum';

type TableRow<K extends ParamName> = {
  readonly type: KindOf<ConfigValues[K]>;
  readonly mutable: boolean;
  readonly secret?: boolean;
  readonly aliases?: readonly string[];
};

// Keyed by name so the compiler insists on exactly one row per parameter. bind and port are
// mutable in Redis 7 but stay immutable here until the listener can rebind at runtime.
const TABLE: { readonly [K in ParamName]: TableRow<K> } = {
  bind: { type: 'list', mutable: false },
  port: { type: 'int', mutable: false },
  shards: { type: 'int', mutable: false },
  dir: { type: 'string', mutable: false },
  loglevel: { type: 'enum', mutable: true },
  requirepass: { type: 'string', mutable: true, secret: true },
  'protected-mode': { type: 'bool', mutable: true },
  maxclients: { type: 'int', mutable: true },
  timeout: { type: 'int', mutable: true },
  'tcp-keepalive': { type: 'int', mutable: true },
  databases: { type: 'int', mutable: false },
  'proto-max-bulk-len': { type: 'bytes', mutable: true },
  'client-query-buffer-limit': { type: 'bytes', mutable: true },
  'ring-size': { type: 'bytes', mutable: false },
  hz: { type: 'int', mutable: true },
  pidfile: { type: 'string', mutable: false },
  save: { type: 'string', mutable: true },
  'active-expire-budget-ms': { type: 'int', mutable: true },
  'slowlog-log-slower-than': { type: 'int', mutable: true },
  'slowlog-max-len': { type: 'int', mutable: true },
  'latency-monitor-threshold': { type: 'int', mutable: true },
  'enable-debug-command': { type: 'enum', mutable: false },
  'metrics-port': { type: 'int', mutable: false },
  'metrics-bind': { type: 'string', mutable: false },
  appendonly: { type: 'bool', mutable: true },
  appendfsync: { type: 'enum', mutable: true },
  'auto-aof-rewrite-percentage': { type: 'int', mutable: true },
  'auto-aof-rewrite-min-size': { type: 'bytes', mutable: true },
  'wal-repair': { type: 'bool', mutable: false },
  maxmemory: { type: 'bytes', mutable: true },
  'maxmemory-policy': { type: 'enum', mutable: true },
  'maxmemory-samples': { type: 'int', mutable: true },
  'lfu-log-factor': { type: 'int', mutable: true },
  'lfu-decay-time': { type: 'int', mutable: true },
  'lazyfree-lazy-eviction': { type: 'bool', mutable: true },
  'lazyfree-lazy-expire': { type: 'bool', mutable: true },
  'lazyfree-lazy-server-del': { type: 'bool', mutable: true },
  'lazyfree-lazy-user-del': { type: 'bool', mutable: true },
  'lazyfree-lazy-user-flush': { type: 'bool', mutable: true },
  'shutdown-timeout': { type: 'int', mutable: true },
  'notify-keyspace-events': { type: 'string', mutable: true },
  'client-output-buffer-limit': { type: 'string', mutable: true },
};

export const PARAMS: readonly ParamSpec[] = Object.freeze(
  (Object.keys(TABLE) as ParamName[]).map((name) => {
    const row: TableRow<ParamName> = TABLE[name];
    return Object.freeze({
      name,
      type: row.type,
      mutable: row.mutable,
      secret: row.secret ?? false,
      aliases: Object.freeze([...(row.aliases ?? [])]),
    });
  }),
);

const BY_NAME = new Map<string, ParamSpec>();
for (const p of PARAMS) {
  for (const n of [p.name, ...p.aliases]) BY_NAME.set(n.toLowerCase(), p);
}

/** Looks a parameter up by name or alias, case-insensitively (as Redis does). */
export function findParam(name: string): ParamSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Every name and alias, lower-case, in table order: what CONFIG GET * iterates over. */
export function allParamNames(): string[] {
  return PARAMS.flatMap((p) => [p.name, ...p.aliases.map((a) => a.toLowerCase())]);
}

/** The subset of JSON Schema keywords config/schema.json uses for a property. */
export interface PropertySchema {
  readonly description: string;
  readonly default: unknown;
  readonly type: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly items?: PropertySchema;
}

export const CONFIG_SCHEMA: Readonly<Record<string, unknown>> = schemaJson;
const PROPERTIES = schemaJson.properties as unknown as Readonly<Record<ParamName, PropertySchema>>;

export function paramSchema(name: ParamName): PropertySchema {
  return PROPERTIES[name];
}

/** Redis memtoull units; k/m/g are decimal, kb/mb/gb binary. */
const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 * 1000,
  mb: 1024 * 1024,
  g: 1000 * 1000 * 1000,
  gb: 1024 * 1024 * 1024,
};

/** Parses "512mb", "1GB", "100k" or "4096" into bytes; undefined if malformed or too large. */
export function parseMemory(s: string): number | undefined {
  const m = /^([0-9]+)([a-z]*)$/i.exec(s);
  if (!m) return undefined;
  const mul = MEMORY_UNITS[m[2]!.toLowerCase()];
  if (mul === undefined) return undefined;
  const n = Number(m[1]) * mul;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Strict like Redis string2ll: optional '-', no '+', no spaces, no leading zeros. */
export function parseInteger(s: string): number | undefined {
  if (!/^-?(0|[1-9][0-9]*)$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Redis yesnotoi: only yes/no, any case. */
export function parseBool(s: string): boolean | undefined {
  const l = s.toLowerCase();
  return l === 'yes' ? true : l === 'no' ? false : undefined;
}

export type Coerced =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'integer' | 'memory' | 'bool' }
  /** A value Redis parses itself (redis-values.ts); `message` is Redis's error text. */
  | { ok: false; reason: 'value'; message: string };

/** Parameters whose CLI flag takes several words, joined with spaces (Redis multi-arg configs). */
export function isMultiWord(spec: ParamSpec): boolean {
  return VALUE_PARSERS[spec.name] !== undefined;
}

/**
 * Converts a raw value to the parameter's runtime type. Strings (CLI, env, CONFIG SET, or a
 * string in a JSON file) are parsed; other JSON values pass through for the schema to judge,
 * so a wrong JSON type is reported by ajv ("must be integer") rather than here. `current` is
 * the value a partial setting merges into (client-output-buffer-limit).
 */
export function coerce(spec: ParamSpec, raw: unknown, current?: unknown): Coerced {
  if (typeof raw !== 'string') return { ok: true, value: raw };
  const parse = VALUE_PARSERS[spec.name];
  if (parse !== undefined) {
    const r = parse(raw, current ?? paramSchema(spec.name).default);
    return r.ok ? r : { ok: false, reason: 'value', message: r.message };
  }
  switch (spec.type) {
    case 'int': {
      const v = parseInteger(raw);
      return v === undefined ? { ok: false, reason: 'integer' } : { ok: true, value: v };
    }
    case 'bytes': {
      const v = parseMemory(raw);
      return v === undefined ? { ok: false, reason: 'memory' } : { ok: true, value: v };
    }
    case 'bool': {
      const v = parseBool(raw);
      return v === undefined ? { ok: false, reason: 'bool' } : { ok: true, value: v };
    }
    case 'enum':
      return { ok: true, value: raw.toLowerCase() };
    case 'list':
      return { ok: true, value: raw.split(/\s+/).filter((x) => x !== '') };
    case 'string':
      return { ok: true, value: raw };
  }
}

/** How CONFIG GET prints a value: yes/no, plain integers, space-separated lists. */
export function formatValue(spec: ParamSpec, value: unknown): string {
  switch (spec.type) {
    case 'bool':
      return value ? 'yes' : 'no';
    case 'list':
      return (value as readonly string[]).join(' ');
    default:
      return String(value);
  }
}
