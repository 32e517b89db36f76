/**
 * Main-thread side of persistence: prepares the data directory (manifest, layout, boot
 * epoch), hands each shard its init data and ports, coordinates the parallel recovery
 * (deciding which multi-shard groups are incomplete), answers -LOADING until it is done,
 * runs SAVE/BGSAVE/BGREWRITEAOF across shards, and reads the shards' status blocks for INFO,
 * STATS and the -MISCONF check.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { LiveConfig } from '../config/live.ts';
import type { Logger } from '../observability/logger.ts';
import { StartupError } from '../util/errors.ts';
import { listDataFiles, readManifest, writeManifest, type Manifest } from './files.ts';
import { decideGroups } from './groups.ts';
import type { FromShard, PersistInit, SourceScan, ToShard } from './messages.ts';
import * as P from './status.ts';

/** Parameters the shards apply themselves (on their persistence port). */
export const PERSIST_PARAMS = new Set([
  'appendonly',
  'appendfsync',
  'auto-aof-rewrite-percentage',
  'auto-aof-rewrite-min-size',
]);

type SaveKind = 'rdb' | 'aof';
interface SaveJob {
  kind: SaveKind;
  remaining: number;
  ok: boolean;
  started: number;
  done: ((ok: boolean) => void)[];
}

export class Persistence {
  readonly dir: string;
  readonly shards: number;
  readonly status: Float64Array[] = [];
  private readonly sabs: SharedArrayBuffer[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly shardPorts: MessagePort[] = [];
  private readonly ioPorts: MessagePort[] = [];
  private io: Worker | null = null;
  private manifest: Manifest | null = null;
  readonly oldShards: number;
  readonly epoch: number;
  private gid = 0;
  loading = true;
  readonly loaded: Promise<void>;
  private resolveLoaded!: () => void;
  private rejectLoaded!: (err: Error) => void;
  /** LASTSAVE: the start counts as a save, as in Redis. */
  lastSave = Math.floor(Date.now() / 1000);
  rdbSaves = 0;
  rdbLastOk = true;
  rdbLastSecs = -1;
  aofRewrites = 0;
  aofLastOk = true;
  aofLastSecs = -1;
  aofScheduled = false;
  private rdbScheduled = false;
  private job: SaveJob | null = null;
  private nextId = 1;
  private readonly jobs = new Map<number, SaveJob>();
  loadingStarted = Date.now();

  private readonly config: LiveConfig;
  private readonly log: Logger;

  constructor(config: LiveConfig, log: Logger, shards: number) {
    this.config = config;
    this.log = log;
    this.dir = config.get('dir');
    this.shards = shards;
    this.loaded = new Promise((res, rej) => {
      this.resolveLoaded = res;
      this.rejectLoaded = rej;
    });
    void this.loaded.catch(() => {});
    this.oldShards = this.prepareDir();
    this.epoch = Math.max((this.manifest?.epoch ?? 0) + 1, Date.now());
    for (let i = 0; i < shards; i++) {
      const sab = new SharedArrayBuffer(P.statusBytes());
      this.sabs.push(sab);
      const st = new Float64Array(sab);
      st[P.P_FD] = -1;
      st[P.P_LOADING] = 1;
      st[P.P_POLICY] = P.POLICY[config.get('appendfsync')];
      this.status.push(st);
      const ch = new MessageChannel();
      this.ports.push(ch.port1);
      this.shardPorts.push(ch.port2);
      const io = new MessageChannel();
      this.ioPorts.push(io.port1);
      this.shardPorts.push(io.port2);
    }
    this.io = new Worker(new URL('../../workers/persist-io.ts', import.meta.url), {
      workerData: { statusSabs: this.sabs, ports: this.ioPorts },
      transferList: this.ioPorts,
      name: 'persist-io',
    });
    this.io.unref();
    config.onChange((name, value) => {
      if (PERSIST_PARAMS.has(name)) this.broadcast({ t: 'config', name, value });
    });
  }

  /** Temp files go, the layout is read (or inferred), files of an abandoned layout go. */
  private prepareDir(): number {
    for (const name of safeReaddir(this.dir)) {
      if (name.endsWith('.tmp')) unlinkSync(path.join(this.dir, name));
    }
    this.manifest = readManifest(this.dir);
    const files = listDataFiles(this.dir);
    if (this.manifest !== null) {
      for (const f of files) {
        // A shard-count change that crashed before its manifest: redone from the old files.
        if (f.shards !== this.manifest.shards) unlinkSync(path.join(this.dir, f.name));
      }
      return this.manifest.shards;
    }
    const layouts = new Set(files.map((f) => f.shards));
    if (layouts.size > 1) {
      throw new StartupError(
        `${this.dir}: data files of several shard layouts (${[...layouts].join(', ')}) and no ${'tessera.manifest'}; keep one layout's files`,
      );
    }
    return layouts.size === 1 ? [...layouts][0]! : this.shards;
  }

  /** workerData and transfers for shard i (ShardSet's `extra`). */
  shardInit(i: number): { data: Record<string, unknown>; transfer: MessagePort[] } {
    const c = this.config;
    const persist: PersistInit = {
      dir: this.dir,
      shard: i,
      shards: this.shards,
      oldShards: this.oldShards,
      epoch: this.epoch,
      appendonly: c.get('appendonly'),
      appendfsync: c.get('appendfsync'),
      autoPct: c.get('auto-aof-rewrite-percentage'),
      autoMin: c.get('auto-aof-rewrite-min-size'),
      repair: c.get('wal-repair'),
      databases: c.get('databases'),
      statusSab: this.sabs[i]!,
    };
    const port = this.shardPorts[2 * i]!;
    const ioPort = this.shardPorts[2 * i + 1]!;
    return { data: { persist, persistPort: port, persistIoPort: ioPort }, transfer: [port, ioPort] };
  }

  /** Start listening to the shards; `loaded` settles when recovery is done (or failed). */
  start(): void {
    const scans = new Map<number, SourceScan>();
    let scanned = 0;
    let loadedCount = 0;
    let keys = 0;
    let expired = 0;
    let slowest = 0;
    this.loadingStarted = Date.now();
    this.ports.forEach((port) => {
      port.on('message', (m: FromShard) => {
        switch (m.t) {
          case 'log':
            this.log[m.level]({ shard: m.shard }, m.msg);
            return;
          case 'failed':
            this.rejectLoaded(new StartupError(`shard ${m.shard} could not load its data: ${m.message}`));
            return;
          case 'scanned':
            for (const w of m.warnings) this.log.warn({ shard: m.shard }, w);
            for (const s of m.sources) if (!scans.has(s.source)) scans.set(s.source, s);
            if (++scanned === this.shards) this.verdict(scans);
            return;
          case 'loaded':
            for (const w of m.warnings) this.log.warn({ shard: m.shard }, w);
            keys += m.keys;
            expired += m.expired;
            slowest = Math.max(slowest, m.ms);
            if (++loadedCount === this.shards) this.finishLoading(keys, expired, slowest);
            return;
          case 'saved':
            this.saved(m.ids, m.ok);
            return;
        }
      });
      port.unref();
    });
  }

  private skip: string[] = [];
  private verdict(scans: Map<number, SourceScan>): void {
    const { skip, keep } = decideGroups(scans, this.manifest);
    this.skip = keep;
    if (skip.size > 0) {
      this.log.warn(
        { groups: skip.size },
        'multi-shard writes interrupted by the crash (not every shard logged them) are left out',
      );
    }
    this.broadcast({ t: 'verdict', skip: [...skip] });
  }

  private finishLoading(keys: number, expired: number, ms: number): void {
    try {
      // The new epoch is durable before any record of it is written.
      writeManifest(this.dir, { version: 1, shards: this.shards, epoch: this.epoch, skip: this.skip });
      if (this.oldShards !== this.shards) {
        for (const f of listDataFiles(this.dir)) {
          if (f.shards !== this.shards) unlinkSync(path.join(this.dir, f.name));
        }
        this.log.warn(
          { from: this.oldShards, to: this.shards },
          'shard count changed: every key was moved to the shard owning its hash slot',
        );
      }
    } catch (err) {
      this.rejectLoaded(
        new StartupError(`cannot write ${this.dir}/tessera.manifest: ${(err as Error).message}`),
      );
      return;
    }
    const secs = (Date.now() - this.loadingStarted) / 1000;
    this.log.info(
      { keys, expiredDropped: expired, seconds: secs, slowestShardMs: ms },
      `DB loaded from disk: ${secs.toFixed(3)} seconds, ${keys} keys`,
    );
    this.loading = false;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.broadcast({ t: 'go' });
    this.resolveLoaded();
  }

  broadcast(m: ToShard): void {
    for (const p of this.ports) p.postMessage(m);
  }

  /** Next multi-shard write group id (allocated in ring order). */
  nextGroup(): number {
    this.gid = (this.gid + 1) >>> 0;
    return this.gid;
  }

  /** errno of a failing WAL write or fsync in any shard (0 when all is well). */
  get diskErrno(): number {
    for (const st of this.status) {
      const e = st[P.P_WRITE_ERRNO]! || st[P.P_FSYNC_ERRNO]!;
      if (e !== 0) return e;
    }
    return 0;
  }

  get saving(): SaveKind | null {
    if (this.job !== null) return this.job.kind;
    return this.status.some((s) => s[P.P_SAVING] === 1) ? 'aof' : null;
  }

  /** Snapshot every shard; `done(ok)` when all finished. */
  save(kind: SaveKind, done: (ok: boolean) => void): void {
    const id = this.nextId++;
    const job: SaveJob = { kind, remaining: this.shards, ok: true, started: Date.now(), done: [done] };
    this.jobs.set(id, job);
    this.job = job;
    this.broadcast({ t: 'save', id });
  }

  /** BGSAVE SCHEDULE: a snapshot counted as a save follows the running one. */
  scheduleRdb(): void {
    if (this.job === null) {
      // Only shards' own automatic snapshots run: their queue takes the request in order.
      this.save('rdb', () => {});
    } else this.rdbScheduled = true;
  }

  private saved(ids: number[], ok: boolean): void {
    for (const id of ids) {
      const job = this.jobs.get(id);
      if (job === undefined) continue;
      job.ok &&= ok;
      if (--job.remaining > 0) continue;
      this.jobs.delete(id);
      if (this.job === job) this.job = null;
      const secs = Math.round((Date.now() - job.started) / 1000);
      if (job.kind === 'rdb') {
        this.rdbLastOk = job.ok;
        this.rdbLastSecs = secs;
        if (job.ok) {
          this.rdbSaves++;
          this.lastSave = Math.floor(Date.now() / 1000);
        }
      } else {
        this.aofLastOk = job.ok;
        this.aofLastSecs = secs;
        if (job.ok) this.aofRewrites++;
      }
      this.log.info(
        { kind: job.kind, ok: job.ok, seconds: secs },
        job.ok ? 'snapshot saved' : 'snapshot failed',
      );
      for (const d of job.done) d(job.ok);
      if (this.job === null && (this.aofScheduled || this.rdbScheduled)) {
        const kind = this.rdbScheduled ? 'rdb' : 'aof';
        if (kind === 'rdb') this.rdbScheduled = false;
        else this.aofScheduled = false;
        this.save(kind, () => {});
      }
    }
  }

  sum(field: number): number {
    let n = 0;
    for (const st of this.status) n += st[field]!;
    return n;
  }

  async stop(): Promise<void> {
    await this.io?.terminate();
    this.io = null;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
