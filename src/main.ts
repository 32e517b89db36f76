/**
 * tessera-server entry point: `node src/main.ts [--flag value ...]` (npm start, make run).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import { ConfigFile, resolveShards } from './config/file.ts';
import { loadConfig } from './config/load.ts';
import { LiveConfig } from './config/live.ts';
import { createLogger, redactConfig, setLogLevel } from './observability/logger.ts';
import { Server, SHUTDOWN_GRACE_S } from './server/server.ts';
import { ConfigError } from './util/errors.ts';
import { TESSERA_VERSION, REDIS_VERSION } from './version.ts';

const USAGE = `Usage: tessera-server [config.json] [--config FILE] [--<param> <value> ...]

Starts the Tessera daemon (Redis-compatible, shard-per-worker). Parameters use Redis names
(--port 6380 --shards 2 --dir /tmp/data --requirepass s3cret); precedence is
flags > TESSERA_<PARAM> environment variables > config file > defaults.
The parameter reference is config/schema.json and the README's configuration section.`;

// A small young generation: the hot path makes little garbage, and big semi-spaces were
// measured at ~35 B/key of extra RSS after loading 1M keys (mem-vs-redis.sh: 161 → 125 B/key).
// Set here so shard isolates created later inherit it; `npm start` passes it for this one.
v8.setFlagsFromString('--max-semi-space-size=1');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let cfg;
  try {
    cfg = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (cfg.action === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (cfg.action === 'version') {
    process.stdout.write(
      `tessera ${TESSERA_VERSION} (redis ${REDIS_VERSION} compatible) node ${process.versions.node}\n`,
    );
    return;
  }
  const live = new LiveConfig({ ...cfg, shards: resolveShards(cfg.shards) });
  const log = createLogger({ level: cfg.loglevel, name: 'tessera' });
  live.onChange((name, value) => {
    if (name === 'loglevel') setLogLevel(log, value as string);
  });
  try {
    mkdirSync(cfg.dir, { recursive: true });
  } catch (err) {
    log.fatal({ dir: cfg.dir, err: (err as Error).message }, 'cannot create data directory');
    process.exit(1);
  }
  const server = new Server(live, log);
  server.configFile = cfg.configFile;
  server.configSource = new ConfigFile(cfg, argv, process.env);
  try {
    await server.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'startup failed');
    await server.shutdown(1);
    process.exit(1);
  }
  if (cfg.pidfile !== '') writeFileSync(cfg.pidfile, `${process.pid}\n`);
  log.info({ config: redactConfig(live.snapshot()) }, 'effective configuration');
  // Logged at info even when loglevel is higher: scripts and tests wait for this line.
  log
    .child({}, { level: cfg.loglevel === 'nothing' ? 'silent' : 'info' })
    .info(
      { port: server.port, shards: live.get('shards'), version: TESSERA_VERSION },
      'Ready to accept connections',
    );
  let signals = 0;
  const stop = (sig: string): void => {
    if (++signals > 1) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(1);
    }
    log.warn({ signal: sig }, 'received signal, shutting down');
    // The drain gives up after shutdown-timeout; a shutdown that still cannot finish (a wedged
    // shard) must not keep the process alive.
    const limit = live.get('shutdown-timeout') + SHUTDOWN_GRACE_S;
    setTimeout(() => {
      log.error({ seconds: limit }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, limit * 1000).unref();
    void server.shutdown(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Reload the config file (flags and TESSERA_* still win); a bad file keeps the running config.
  process.on('SIGHUP', () => {
    if (!server.stopping) server.configSource!.reloadAndLog(live, log);
  });
  await server.stopped;
  if (cfg.pidfile !== '') rmSync(cfg.pidfile, { force: true });
  process.exit(process.exitCode ?? 0);
}

await main();
