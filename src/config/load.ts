/**
 * Startup configuration: defaults < config file < TESSERA_* env < command-line flags.
 * Every layer is converted by parameter type first, then the merged object is validated once
 * against config/schema.json so the schema stays the single source of validation rules.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import defaultsJson from '../../config/default.json' with { type: 'json' };
import { ConfigError } from '../util/errors.ts';
import {
  CONFIG_SCHEMA,
  PARAMS,
  coerce,
  findParam,
  isMultiWord,
  paramSchema,
  type ConfigValues,
  type ParamName,
  type ParamSpec,
} from './params.ts';

export type { ConfigValues, ParamName } from './params.ts';

export type ConfigAction = 'run' | 'help' | 'version';

export type Config = Readonly<ConfigValues> & {
  /** --help / --version are answered by the caller; the values are then the defaults. */
  readonly action: ConfigAction;
  /** The config file that was read, if any. */
  readonly configFile: string | null;
  /** Where each value came from: 'default', the file path, the env var name or the flag. */
  readonly sources: Readonly<Record<ParamName, string>>;
};

const ENV_PREFIX = 'TESSERA_';

const ajv = new Ajv({ allErrors: true, strict: true });
const validateAll = ajv.compile<ConfigValues>(CONFIG_SCHEMA);
const propertyValidators = new Map(PARAMS.map((p) => [p.name, ajv.compile(paramSchema(p.name))] as const));

/** Validates one already-coerced value; returns ajv's errors (empty if valid). */
export function validateParam(name: ParamName, value: unknown): ErrorObject[] {
  const validate = propertyValidators.get(name)!;
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

/** A raw value as it was given, with where it came from. */
interface Raw {
  readonly value: unknown;
  readonly source: string;
}

type Layer = Map<ParamName, Raw>;

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const cli = parseArgv(argv);
  const defaults = defaultsLayer();
  if (cli.action !== 'run') return finish(defaults, cli.action, null);

  const layers: Layer[] = [defaults];
  if (cli.configFile !== null) layers.push(fileLayer(cli.configFile));
  layers.push(envLayer(env), cli.layer);

  const merged: Layer = new Map();
  for (const layer of layers) for (const [name, raw] of layer) merged.set(name, raw);
  return finish(merged, 'run', cli.configFile);
}

function finish(merged: Layer, action: ConfigAction, configFile: string | null): Config {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const problems = new Map<ParamName, string>();

  for (const [name, raw] of merged) {
    sources[name] = raw.source;
    const c = coerce(findParam(name)!, raw.value);
    // Copies lists so no caller can mutate the defaults module or another Config through them.
    if (c.ok) values[name] = Array.isArray(c.value) ? Object.freeze([...(c.value as unknown[])]) : c.value;
    else problems.set(name, describe(name, raw, c.reason === 'value' ? c.message : COERCE_RULES[c.reason]));
  }

  // Fields that failed conversion get their (valid) default so the schema pass reports only
  // independent problems, and the user sees every bad field at once.
  const candidate = { ...(defaultsJson as Record<string, unknown>), ...values };
  if (!validateAll(candidate)) {
    for (const err of validateAll.errors ?? []) {
      const field = fieldOf(err);
      if (!problems.has(field)) problems.set(field, describe(field, merged.get(field)!, ajvRule(err)));
    }
  }
  if (problems.size > 0) {
    const ordered = PARAMS.filter((p) => problems.has(p.name)).map((p) => p.name);
    throw new ConfigError(ordered.map((n) => problems.get(n)).join('; '), ordered[0]);
  }
  return Object.freeze({
    ...(values as unknown as ConfigValues),
    action,
    configFile,
    sources: Object.freeze(sources as Record<ParamName, string>),
  });
}

const COERCE_RULES = {
  integer: 'must be an integer',
  memory: 'must be a memory value (a number optionally followed by b, k, kb, m, mb, g or gb)',
  bool: "must be 'yes' or 'no'",
} as const;

function fieldOf(err: ErrorObject): ParamName {
  const top = err.instancePath.split('/')[1];
  return (top ?? '') as ParamName;
}

function ajvRule(err: ErrorObject): string {
  const item = /^\/[^/]+\/(\d+)$/.exec(err.instancePath);
  const prefix = item ? `item ${Number(item[1]) + 1} ` : '';
  if (err.keyword === 'enum') {
    return `${prefix}must be one of: ${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  }
  return `${prefix}${err.message ?? 'is invalid'}`;
}

/** `invalid config: port = 70000 (from --port): must be <= 65535`; secrets never echoed. */
function describe(name: ParamName, raw: Raw, rule: string): string {
  return `invalid config: ${name} = ${display(findParam(name)!, raw.value)} (from ${raw.source}): ${rule}`;
}

function display(spec: ParamSpec, value: unknown): string {
  if (spec.secret) return '(redacted)';
  if (typeof value === 'string') return value === '' ? "''" : value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(' ');
  return JSON.stringify(value);
}

function defaultsLayer(): Layer {
  const layer: Layer = new Map();
  const defaults = defaultsJson as Record<string, unknown>;
  for (const p of PARAMS) layer.set(p.name, { value: defaults[p.name], source: 'default' });
  return layer;
}

function resolveName(name: string, source: string): ParamSpec {
  const spec = findParam(name);
  if (spec) return spec;
  const hint = closestName(name);
  throw new ConfigError(
    `unknown config parameter '${name}' (from ${source})${hint ? `; did you mean '${hint}'?` : ''}`,
    name,
  );
}

function fileLayer(path: string): Layer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(`cannot read config file '${path}': ${why}`, 'config', { cause: e });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`invalid JSON in config file '${path}': ${(e as Error).message}`, 'config', {
      cause: e,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file '${path}' must contain a JSON object`, 'config');
  }
  const layer: Layer = new Map();
  for (const [key, value] of Object.entries(data)) {
    // "$schema" lets editors validate the file against config/schema.json.
    if (key === '$schema') continue;
    layer.set(resolveName(key, path).name, { value, source: path });
  }
  return layer;
}

/**
 * Unknown TESSERA_* variables are ignored rather than fatal: other parts of the system (tests,
 * tooling) may use the same prefix for things that are not config parameters.
 */
function envLayer(env: Record<string, string | undefined>): Layer {
  const layer: Layer = new Map();
  for (const p of PARAMS) {
    for (const name of [p.name, ...p.aliases]) {
      const varName = ENV_PREFIX + name.toUpperCase().replaceAll('-', '_');
      const value = env[varName];
      if (value !== undefined) layer.set(p.name, { value, source: varName });
    }
  }
  return layer;
}

interface ParsedArgv {
  readonly action: ConfigAction;
  readonly configFile: string | null;
  readonly layer: Layer;
}

/**
 * redis-server style: an optional config file as the first argument, then `--name value...`
 * where every following argument not starting with `--` belongs to that flag.
 */
function parseArgv(argv: readonly string[]): ParsedArgv {
  if (argv.includes('--help') || argv[0] === '-h') {
    return { action: 'help', configFile: null, layer: new Map() };
  }
  if (argv.includes('--version') || argv[0] === '-v') {
    return { action: 'version', configFile: null, layer: new Map() };
  }

  let configFile: string | null = null;
  const setConfigFile = (path: string | undefined, source: string): void => {
    if (path === undefined || path === '') {
      throw new ConfigError(`missing config file path after ${source}`, 'config');
    }
    if (configFile !== null) {
      throw new ConfigError(`config file given twice ('${configFile}' and '${path}')`, 'config');
    }
    configFile = path;
  };

  const layer: Layer = new Map();
  let i = 0;
  if (argv[0] !== undefined && !argv[0].startsWith('-')) {
    setConfigFile(argv[0], 'the first argument');
    i = 1;
  }
  while (i < argv.length) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError(`unexpected argument '${arg}': expected --<parameter> <value>`);
    }
    const values: string[] = [];
    for (i++; i < argv.length && !argv[i]!.startsWith('--'); i++) values.push(argv[i]!);

    if (arg === '--config') {
      if (values.length > 1) throw new ConfigError(`--config takes one path, got ${values.length}`, 'config');
      setConfigFile(values[0], '--config');
      continue;
    }
    const spec = resolveName(arg.slice(2), arg);
    layer.set(spec.name, flagValue(spec, arg, values, layer.get(spec.name)));
  }
  return { action: 'run', configFile, layer };
}

function flagValue(spec: ParamSpec, flag: string, values: string[], previous: Raw | undefined): Raw {
  if (spec.type === 'list') {
    if (values.length === 0) throw flagError(spec, flag, '', 'needs at least one value');
    // Repeating a list flag appends, so `--bind a --bind b` means both addresses.
    const before = previous ? (previous.value as string[]) : [];
    return { value: [...before, ...values], source: flag };
  }
  // A bare boolean flag reads naturally as "turn it on".
  if (values.length === 0 && spec.type === 'bool') return { value: 'yes', source: flag };
  if (values.length === 0) throw flagError(spec, flag, '', 'missing value');
  // `--client-output-buffer-limit pubsub 32mb 8mb 60`, as redis-server takes it.
  if (values.length > 1 && isMultiWord(spec)) return { value: values.join(' '), source: flag };
  if (values.length > 1) throw flagError(spec, flag, values.join(' '), 'expects a single value');
  return { value: values[0], source: flag };
}

function flagError(spec: ParamSpec, flag: string, value: string, rule: string): ConfigError {
  return new ConfigError(describe(spec.name, { value, source: flag }, rule), spec.name);
}

function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const p of PARAMS) {
    const d = editDistance(name.toLowerCase(), p.name);
    if (d < bestDist) [best, bestDist] = [p.name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
