import { NO_CONFIG_FILE } from '../config/file.ts';
import { collectStats, writeStats } from '../observability/stats.ts';
import type { LocalContext } from '../server/local.ts';
import { ConfigError } from '../util/errors.ts';

/** Operator commands on the main thread: STATS (Tessera-only) and CONFIG REWRITE. */

function stats(c: LocalContext): void {
  writeStats(c.out, collectStats(c.srv));
}

function configRewrite(c: LocalContext): void {
  const file = c.srv.configSource;
  if (file === null) return c.out.error(NO_CONFIG_FILE);
  try {
    file.rewrite(c.srv.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    c.srv.log.warn({ file: file.path, err: err.message }, 'CONFIG REWRITE failed');
    return c.out.error(err.message);
  }
  c.srv.log.info({ file: file.path }, 'CONFIG REWRITE executed with success');
  c.out.ok();
}

export const adminHandlers: Record<string, (c: LocalContext) => void> = {
  stats,
  'config|rewrite': configRewrite,
};
