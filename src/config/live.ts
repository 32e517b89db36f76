/**
 * The running configuration behind CONFIG GET / CONFIG SET. Error texts are Redis 7.0's
 * config.c replies (minus the leading '-') because clients and test suites match on them.
 */
import type { ErrorObject } from 'ajv';
import { ConfigError } from '../util/errors.ts';
import { globMatchString } from '../util/glob.ts';
import { validateParam, type Config } from './load.ts';
import {
  PARAMS,
  allParamNames,
  coerce,
  findParam,
  formatValue,
  paramSchema,
  type ConfigValues,
  type ParamName,
  type ParamSpec,
} from './params.ts';

export type ChangeListener = (name: string, value: unknown) => void;

export class LiveConfig {
  readonly #values: Map<ParamName, unknown>;
  readonly #listeners: ChangeListener[] = [];

  constructor(cfg: Config) {
    this.#values = new Map(PARAMS.map((p) => [p.name, cfg[p.name]]));
  }

  /** Current value by canonical name (typed) or any alias, case-insensitively. */
  get<K extends ParamName>(name: K): ConfigValues[K];
  get(name: string): unknown;
  get(name: string): unknown {
    const spec = findParam(name);
    if (!spec) throw new ConfigError(`unknown config parameter '${name}'`, name);
    return this.#values.get(spec.name);
  }

  /** A plain copy of every current value, e.g. for logging through redactConfig(). */
  snapshot(): ConfigValues {
    return Object.fromEntries(this.#values) as unknown as ConfigValues;
  }

  /**
   * CONFIG GET: name/value pairs for every parameter matching any of the patterns, each at most
   * once. Like Redis 7, a pattern without glob characters is a direct lookup answered under the
   * name exactly as the client wrote it; glob patterns are matched case-insensitively against
   * all names and aliases.
   */
  getMatching(pattern: string, ...morePatterns: string[]): Array<[string, string]> {
    const seen = new Set<ParamName>();
    const out: Array<[string, string]> = [];
    const emit = (spec: ParamSpec, as: string): void => {
      if (seen.has(spec.name)) return;
      seen.add(spec.name);
      out.push([as, formatValue(spec, this.#values.get(spec.name))]);
    };
    for (const pat of [pattern, ...morePatterns]) {
      if (!/[[*?]/.test(pat)) {
        const spec = findParam(pat);
        if (spec) emit(spec, pat);
        continue;
      }
      for (const name of allParamNames()) {
        if (globMatchString(pat, name, true)) emit(findParam(name)!, name);
      }
    }
    return out;
  }

  /**
   * CONFIG SET with Redis 7 semantics: names are checked first (unknown, immutable, duplicate;
   * the first problem wins), then every value is parsed and validated, and only then is
   * anything applied, so one bad pair leaves the configuration untouched. If a listener
   * throws, the previous values are restored (and re-announced) and the set fails, like a
   * failing apply function in Redis.
   */
  set(pairs: Array<[string, string]>): void {
    if (pairs.length === 0) throw new ConfigError("ERR wrong number of arguments for 'config|set' command");

    const specs: ParamSpec[] = [];
    for (const [name] of pairs) {
      const spec = findParam(name);
      if (!spec) {
        throw new ConfigError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`, name);
      }
      if (!spec.mutable) throw setFailed(name, "can't set immutable config");
      if (specs.includes(spec)) throw setFailed(name, 'duplicate parameter');
      specs.push(spec);
    }

    const updates = specs.map((spec, i) => {
      const parsed = parseForSet(spec, pairs[i]![1], this.#values.get(spec.name));
      // Redis names the canonical parameter (not the alias the client used) for value errors.
      if (!parsed.ok) throw setFailed(spec.name, parsed.reason);
      return { spec, value: parsed.value };
    });

    const changed = updates.filter((u) => !sameValue(this.#values.get(u.spec.name), u.value));
    const previous = changed.map((u) => ({ spec: u.spec, value: this.#values.get(u.spec.name) }));
    for (const u of changed) this.#values.set(u.spec.name, u.value);

    const notified: typeof changed = [];
    try {
      for (const u of changed) {
        notified.push(u);
        for (const fn of [...this.#listeners]) fn(u.spec.name, u.value);
      }
    } catch (e) {
      for (const p of previous) this.#values.set(p.spec.name, p.value);
      for (const u of notified) {
        const old = previous.find((p) => p.spec === u.spec)!.value;
        for (const fn of [...this.#listeners]) {
          try {
            fn(u.spec.name, old);
          } catch {
            // Best effort: the original failure is the one worth reporting.
          }
        }
      }
      const why = e instanceof Error ? e.message : String(e);
      throw setFailed(notified.at(-1)!.spec.name, why, e);
    }
  }

  /** Called after an accepted CONFIG SET, once per parameter whose value actually changed. */
  onChange(fn: ChangeListener): () => void {
    this.#listeners.push(fn);
    return () => {
      const i = this.#listeners.indexOf(fn);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }
}

function setFailed(name: string, reason: string, cause?: unknown): ConfigError {
  return new ConfigError(
    `ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`,
    name,
    cause === undefined ? undefined : { cause },
  );
}

const COERCE_REASONS = {
  integer: "argument couldn't be parsed into an integer",
  memory: 'argument must be a memory value',
  bool: "argument must be 'yes' or 'no'",
} as const;

function parseForSet(
  spec: ParamSpec,
  raw: string,
  current: unknown,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  const c = coerce(spec, raw, current);
  if (!c.ok) return { ok: false, reason: c.reason === 'value' ? c.message : COERCE_REASONS[c.reason] };
  const errors = validateParam(spec.name, c.value);
  if (errors.length > 0) return { ok: false, reason: redisReason(spec, errors[0]!) };
  return { ok: true, value: Array.isArray(c.value) ? Object.freeze(c.value) : c.value };
}

function redisReason(spec: ParamSpec, err: ErrorObject): string {
  const s = paramSchema(spec.name);
  if (err.keyword === 'minimum' || err.keyword === 'maximum') {
    return `argument must be between ${s.minimum} and ${s.maximum} inclusive`;
  }
  if (err.keyword === 'enum') return `argument(s) must be one of the following: ${s.enum!.join(', ')}`;
  // No Redis wording to copy for these (string/list shape rules); say it in ajv's words.
  return `argument ${err.message ?? 'is invalid'}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
