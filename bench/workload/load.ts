/**
 * Reads workload files (bench/workloads/*.json or user files), validates them against
 * bench/workload.schema.json with ajv, applies defaults and the per-command rules the schema
 * cannot express well, and returns plain Workload objects. Errors name the file and the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { COMMANDS, type CommandName, type MixEntry, type Workload } from './types.ts';

const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORKLOAD_DIR = path.join(BENCH, 'workloads');
const schema = JSON.parse(readFileSync(path.join(BENCH, 'workload.schema.json'), 'utf8')) as object;

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema);

export class WorkloadError extends Error {}

interface RawMix {
  command: CommandName;
  weight: number;
  ttl?: number;
  keys?: number;
  fields?: number;
  count?: number;
}
interface Raw {
  name: string;
  description: string;
  suites: string[];
  mode: 'closed' | 'open';
  rate?: number;
  keyspace: { keys: number; distribution: Workload['distribution']; skew: number; prefix: string };
  valueSize: number;
  pipeline: number;
  connections: number;
  preload?: boolean;
  server: Record<string, string | number>;
  mix: RawMix[];
}

/** Which optional mix fields each command accepts (the rest are rejected, not ignored). */
const OPTIONS: Record<CommandName, (keyof RawMix)[]> = {
  GET: [],
  SET: ['ttl'],
  INCR: [],
  MSET: ['keys'],
  MGET: ['keys'],
  LPUSH: [],
  LPOP: [],
  HSET: ['fields'],
  HGET: ['fields'],
  ZADD: [],
  ZRANGE: ['count'],
  SADD: [],
};

function formatErrors(errors: ErrorObject[]): string {
  return errors
    .map((e) => {
      const where = e.instancePath === '' ? '(top level)' : e.instancePath;
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : e.keyword === 'enum'
            ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
            : '';
      return `  ${where}: ${e.message ?? e.keyword}${extra}`;
    })
    .join('\n');
}

/** Validate one parsed JSON document; `file` is only used in messages. */
export function parseWorkload(doc: unknown, file: string): Workload {
  // ajv fills defaults in place: work on a copy so callers' objects stay untouched.
  const data = structuredClone(doc);
  if (!validate(data)) {
    throw new WorkloadError(`${file}: invalid workload\n${formatErrors(validate.errors ?? [])}`);
  }
  const raw = data as unknown as Raw;
  const total = raw.mix.reduce((s, m) => s + m.weight, 0);
  const mix: MixEntry[] = raw.mix.map((m, i) => {
    for (const opt of ['ttl', 'keys', 'fields', 'count'] as const) {
      if (m[opt] !== undefined && !OPTIONS[m.command].includes(opt)) {
        throw new WorkloadError(`${file}: /mix/${i}: '${opt}' does not apply to ${m.command}`);
      }
    }
    return {
      command: m.command,
      share: m.weight / total,
      ttl: m.ttl ?? 0,
      keys: m.command === 'MSET' || m.command === 'MGET' ? (m.keys ?? 10) : 1,
      fields: m.fields ?? 16,
      count: m.count ?? 10,
    };
  });
  const readsStrings = mix.some((m) => m.command === 'GET' || m.command === 'MGET');
  return {
    name: raw.name,
    description: raw.description,
    file,
    suites: raw.suites,
    mode: raw.mode,
    rate: raw.mode === 'open' ? raw.rate! : 0,
    keys: raw.keyspace.keys,
    distribution: raw.keyspace.distribution,
    skew: raw.keyspace.skew,
    prefix: raw.keyspace.prefix,
    valueSize: raw.valueSize,
    pipeline: raw.pipeline,
    connections: raw.connections,
    preload: raw.preload ?? readsStrings,
    server: Object.fromEntries(Object.entries(raw.server).map(([k, v]) => [k, String(v)])),
    mix,
  };
}

export function loadWorkloadFile(file: string): Workload {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WorkloadError(`${file}: ${(e as Error).message}`);
  }
  return parseWorkload(doc, file);
}

/** Every *.json in a directory, sorted by file name (the suite order); names must be unique. */
export function loadWorkloadDir(dir: string = WORKLOAD_DIR): Workload[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return checkUnique(files.map((f) => loadWorkloadFile(path.join(dir, f))));
}

export function checkUnique(list: Workload[]): Workload[] {
  const seen = new Map<string, string>();
  for (const w of list) {
    const prev = seen.get(w.name);
    if (prev !== undefined)
      throw new WorkloadError(`workload name '${w.name}' used by ${prev} and ${w.file}`);
    seen.set(w.name, w.file);
  }
  return list;
}

export { COMMANDS };
