/**
 * The config file at run time: CONFIG REWRITE writes the running configuration back to the
 * file it was loaded from (atomically), and SIGHUP reloads it through the same loader as
 * startup and applies what changed through LiveConfig.set (all or nothing).
 */
import { closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, statSync } from 'node:fs';
import { unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger.ts';
import { ConfigError } from '../util/errors.ts';
import type { LiveConfig } from './live.ts';
import { loadConfig, type Config } from './load.ts';
import { PARAMS, formatValue, type ConfigValues, type ParamName } from './params.ts';
import defaultsJson from '../../config/default.json' with { type: 'json' };

/** shards=0 means "auto": one shard per core left after the main thread, at least one. */
export function resolveShards(configured: number): number {
  if (configured > 0) return configured;
  return Math.max(1, os.availableParallelism() - 1);
}

/** Redis's reply when there is no file to rewrite. */
export const NO_CONFIG_FILE = 'ERR The server is running without a config file';

export type ReloadOutcome =
  | { status: 'no-file' }
  | { status: 'invalid'; reason: string }
  | { status: 'immutable'; params: ParamName[] }
  | { status: 'unchanged' }
  | { status: 'applied'; changed: ParamName[] }
  | { status: 'failed'; reason: string };

export class ConfigFile {
  /** The file given with --config (or as the first argument), as given; null if none. */
  readonly path: string | null;
  readonly #argv: readonly string[];
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #startup: Config;

  /** `argv` and `env` are what startup loaded from, so a reload keeps the same precedence. */
  constructor(startup: Config, argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
    this.path = startup.configFile;
    this.#startup = startup;
    this.#argv = [...argv];
    this.#env = { ...env };
  }

  /**
   * CONFIG REWRITE: the file gets `$schema` (if it had one), then every parameter that is in
   * the file already or differs from its default, with its running value, in name order. The
   * secret (requirepass) is written too — this is the config file — and the file keeps its
   * permissions. Temp file in the same directory, fsync, rename, fsync the directory: a crash
   * leaves the old file or the new one, never a mix. Throws ConfigError with the reply text.
   */
  rewrite(live: LiveConfig): void {
    if (this.path === null) throw new ConfigError(NO_CONFIG_FILE);
    let target = this.path;
    try {
      target = realpathSync(this.path); // write through a symlink, not over it
    } catch {
      // The file is gone: recreate it where it was.
    }
    let old: Record<string, unknown> = {};
    let mode = 0o600;
    try {
      mode = statSync(target).mode & 0o777;
      const parsed: unknown = JSON.parse(readFileSync(target, 'utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        old = parsed as Record<string, unknown>;
      }
    } catch {
      // Missing or unparsable: write a fresh file from the running values.
    }
    const text = JSON.stringify(this.contents(live, old), null, 2) + '\n';
    try {
      writeAtomically(target, text, mode);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new ConfigError(`ERR Rewriting config file: ${why}`, undefined, { cause: e });
    }
  }

  /** The object CONFIG REWRITE writes (exported for tests through rewrite()). */
  private contents(live: LiveConfig, old: Record<string, unknown>): Record<string, unknown> {
    const values: ConfigValues = { ...live.snapshot(), shards: this.#startup.shards };
    const defaults = defaultsJson as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if (typeof old.$schema === 'string') out.$schema = old.$schema;
    const names = PARAMS.map((p) => p.name).sort();
    for (const name of names) {
      const v = values[name];
      const keep = Object.hasOwn(old, name) || !sameValue(v, defaults[name]);
      if (keep) out[name] = Array.isArray(v) ? [...(v as readonly string[])] : v;
    }
    return out;
  }

  /**
   * SIGHUP: load again with the startup arguments (flags and TESSERA_* still win over the
   * file), validate with the startup loader, refuse changes to immutable parameters, and apply
   * the changed mutable ones in one LiveConfig.set. Any failure keeps the running config.
   */
  reload(live: LiveConfig): ReloadOutcome {
    if (this.path === null) return { status: 'no-file' };
    let next: Config;
    try {
      next = loadConfig([...this.#argv], { ...this.#env });
    } catch (e) {
      if (e instanceof ConfigError) return { status: 'invalid', reason: e.message };
      throw e;
    }
    const immutable: ParamName[] = [];
    const pairs: [string, string][] = [];
    const changed: ParamName[] = [];
    for (const p of PARAMS) {
      const now = live.get(p.name);
      const wanted = p.name === 'shards' ? resolveShards(next.shards) : next[p.name];
      if (sameValue(now, wanted)) continue;
      if (!p.mutable) immutable.push(p.name);
      else {
        pairs.push([p.name, formatValue(p, wanted)]);
        changed.push(p.name);
      }
    }
    if (immutable.length > 0) return { status: 'immutable', params: immutable };
    if (pairs.length === 0) return { status: 'unchanged' };
    try {
      live.set(pairs);
    } catch (e) {
      return { status: 'failed', reason: (e as Error).message };
    }
    return { status: 'applied', changed };
  }

  /** Reloads and logs the outcome: parameter names only for secrets, never their values. */
  reloadAndLog(live: LiveConfig, log: Logger): ReloadOutcome {
    const r = this.reload(live);
    const file = this.path;
    switch (r.status) {
      case 'no-file':
        log.warn('SIGHUP: running without a config file; nothing to reload');
        break;
      case 'invalid':
        log.warn({ file, reason: r.reason }, 'SIGHUP: config file is invalid; keeping the running config');
        break;
      case 'immutable':
        log.warn(
          { file, params: r.params },
          'SIGHUP: config file changes parameters that need a restart; keeping the running config',
        );
        break;
      case 'failed':
        log.warn(
          { file, reason: r.reason },
          'SIGHUP: applying the config file failed; kept the running config',
        );
        break;
      case 'unchanged':
        log.info({ file }, 'SIGHUP: config file reloaded; nothing changed');
        break;
      case 'applied': {
        const values: Record<string, string> = {};
        for (const name of r.changed) {
          const spec = PARAMS.find((p) => p.name === name)!;
          if (!spec.secret) values[name] = formatValue(spec, live.get(name));
        }
        log.info({ file, changed: r.changed, values }, 'SIGHUP: config file reloaded');
        break;
      }
    }
    return r;
  }
}

function writeAtomically(target: string, text: string, mode: number): void {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created.
    }
    throw e;
  }
  // The rename is durable once the directory entry is. Some platforms cannot fsync a directory.
  let dfd: number | null = null;
  try {
    dfd = openSync(dir, 'r');
    fsyncSync(dfd);
  } catch {
    // Best effort (EISDIR/EPERM/EINVAL on platforms without directory fsync).
  } finally {
    if (dfd !== null) closeSync(dfd);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
