/**
 * The servers a run measures: parsed from --target [name=]host:port, or started by the harness
 * (Tessera, plus redis-server when it is on PATH). Each is identified over the wire (INFO):
 * which product and version, its pid when it runs on this machine (for CPU per operation from
 * /proc), and its persistence settings.
 */
import { existsSync } from 'node:fs';
import { ControlClient, parseInfo } from '../resp/control.ts';
import {
  launchRedis,
  launchTessera,
  redisOnPath,
  REDIS_PERSISTENCE,
  TESSERA_PERSISTENCE,
  type Launched,
} from './launch.ts';

export interface Target {
  name: string;
  host: string;
  port: number;
  kind: 'tessera' | 'redis' | 'other';
  version: string;
  /** Process id for /proc CPU accounting, when known. */
  pid: number | null;
  pidSource: 'started by the harness' | 'INFO process_id (same machine)' | 'unknown';
  /** Started by the harness: it may FLUSHALL between workloads and stops it at the end. */
  owned: boolean;
  persistence: string;
  launched: Launched | null;
}

export interface TargetSpec {
  name: string | null;
  host: string;
  port: number;
}

export function parseTargetSpec(s: string): TargetSpec {
  const m = /^(?:([A-Za-z0-9_.-]+)=)?(\[[^\]]+\]|[^:=]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) {
    throw new Error(`--target ${s}: expected [name=]host:port, e.g. tessera=127.0.0.1:6379`);
  }
  return { name: m[1] ?? null, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0']);

/** Ask a running server what it is. */
async function identify(
  host: string,
  port: number,
): Promise<{ kind: Target['kind']; version: string; pid: number | null; persistence: string }> {
  const c = await ControlClient.connect(host, port);
  try {
    const pong = await c.text('PING');
    if (pong !== 'PONG') throw new Error(`${host}:${port} answered PING with ${pong}`);
    const info = parseInfo(await c.text('INFO', 'server'));
    const tessera = info.get('tessera_version');
    const kind = tessera !== undefined ? 'tessera' : info.has('redis_version') ? 'redis' : 'other';
    const version = tessera ?? info.get('redis_version') ?? 'unknown';
    const pidText = info.get('process_id');
    const pid =
      pidText !== undefined && LOCAL.has(host) && existsSync(`/proc/${pidText}/stat`)
        ? Number(pidText)
        : null;
    let persistence = kind === 'tessera' ? TESSERA_PERSISTENCE : 'unknown';
    if (kind !== 'tessera') {
      try {
        const save = await configGet(c, 'save');
        const aof = await configGet(c, 'appendonly');
        persistence = `save '${save}', appendonly ${aof}`;
      } catch {
        // CONFIG may be renamed or forbidden on a managed server; leave it unknown.
      }
    }
    return { kind, version, pid, persistence };
  } finally {
    c.close();
  }
}

async function configGet(c: ControlClient, name: string): Promise<string> {
  const r = await c.call('CONFIG', 'GET', name);
  const parts = r.toString('utf8').split('\r\n');
  // *2 $len name $len value
  if (parts[0] !== '*2') throw new Error(`CONFIG GET ${name}: unexpected reply`);
  return parts[4] ?? '';
}

export async function externalTargets(specs: TargetSpec[]): Promise<Target[]> {
  const out: Target[] = [];
  for (const s of specs) {
    const id = await identify(s.host, s.port).catch((e: Error) => {
      throw new Error(`--target ${s.host}:${s.port}: ${e.message}`);
    });
    out.push({
      name: s.name ?? `${id.kind === 'other' ? 'server' : id.kind}@${s.port}`,
      host: s.host,
      port: s.port,
      kind: id.kind,
      version: id.version,
      pid: id.pid,
      pidSource: id.pid !== null ? 'INFO process_id (same machine)' : 'unknown',
      owned: false,
      persistence: id.persistence,
      launched: null,
    });
  }
  const names = new Set(out.map((t) => t.name));
  if (names.size !== out.length) throw new Error('--target names must be unique (use name=host:port)');
  return out;
}

/** Start Tessera and, unless disabled or absent, redis-server; stop whatever started on failure. */
export async function ownedTargets(opts: { shards: string | null; redis: boolean }): Promise<Target[]> {
  const started: Launched[] = [];
  try {
    const list: Target[] = [];
    const t = await launchTessera(opts.shards);
    started.push(t);
    list.push(await owned('tessera', t, TESSERA_PERSISTENCE));
    if (opts.redis && redisOnPath()) {
      const r = await launchRedis();
      started.push(r);
      list.push(await owned('redis', r, REDIS_PERSISTENCE));
    }
    return list;
  } catch (e) {
    await Promise.all(started.map((s) => s.stop()));
    throw e;
  }
}

async function owned(name: string, l: Launched, persistence: string): Promise<Target> {
  const id = await identify('127.0.0.1', l.port);
  return {
    name,
    host: '127.0.0.1',
    port: l.port,
    kind: id.kind,
    version: id.version,
    pid: l.pid,
    pidSource: 'started by the harness',
    owned: true,
    persistence,
    launched: l,
  };
}

export async function stopTargets(targets: Target[]): Promise<void> {
  await Promise.all(targets.map((t) => t.launched?.stop()));
}
