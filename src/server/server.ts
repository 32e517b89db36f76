import net from 'node:net';
import { attachLocalCommands } from '../commands/local-commands.ts';
import { TABLE } from '../commands/table.ts';
import type { LiveConfig } from '../config/live.ts';
import type { Logger } from '../observability/logger.ts';
import { ShardSet } from '../router/shards.ts';
import { StartupError } from '../util/errors.ts';
import { Connection } from './connection.ts';
import { COORDINATOR_CONN, Coordinator } from './coordinator.ts';
import { Blocking } from './blocking.ts';
import type { Session } from './session.ts';
import { argvParser, setParser, unwatchAll } from './transaction.ts';
import { Dispatcher } from './dispatch.ts';
import { OutputLimits } from './obuf-limits.ts';
import { PubSub } from './pubsub.ts';
import { enforceOutputLimit, wirePubSub } from './pubsub-wiring.ts';
import { MonitorFeed } from './monitor.ts';
import { admissionError, rejectClient } from './admission.ts';
import { drainClients } from './drain.ts';
import { ClientPause } from './pause.ts';
import { adoptSocket } from './shared-read.ts';
import type { ConfigFile } from '../config/file.ts';
import { OpsSampler } from '../observability/stats.ts';
import { ST_OPS } from '../router/shard-stats.ts';
import { CommandStats } from '../observability/command-stats.ts';
import { SlowLog } from '../observability/slowlog.ts';
import { LatencyMonitor } from '../observability/latency-monitor.ts';
import { MetricsHttp } from '../observability/http.ts';
import { Persistence } from '../persistence/controller.ts';
import type { ShutdownSave } from '../persistence/shutdown-save.ts';
import { usedMemory } from '../observability/info.ts';
import { MEMORY_PARAMS, shardValue } from '../commands/memory-guard.ts';

/** Parameters the shard workers apply themselves (sent on their control port). */
const SHARD_PARAMS = new Set([
  'proto-max-bulk-len',
  'active-expire-budget-ms',
  'slowlog-log-slower-than',
  'slowlog-max-len',
]);

/** A shutdown still running this long after `shutdown-timeout` has passed exits 1 (main.ts). */
export const SHUTDOWN_GRACE_S = 5;

export interface ServerStats {
  totalConnections: number;
  rejectedConnections: number;
  netInput: number;
  netOutput: number;
  protocolErrors: number;
}

/**
 * The main thread: accepts connections, parses their input, dispatches commands, and writes
 * replies coming back from the shards. Writes to the rings are published once per event-loop
 * turn (setImmediate); replies are flushed once per doorbell wake-up, one socket write per
 * connection.
 */
export class Server {
  readonly config: LiveConfig;
  readonly log: Logger;
  readonly shards: ShardSet;
  readonly dispatcher: Dispatcher;
  readonly commandStats: CommandStats;
  /** LATENCY monitor: the main thread's samples and a view over every shard's. */
  readonly latency: LatencyMonitor;
  /** Slow commands executed on the main thread (shards keep their own). */
  readonly slowlog = new SlowLog();
  readonly coordinator: Coordinator;
  /** WAL, snapshots, recovery (src/persistence). */
  readonly persistence: Persistence;
  /** Pub/Sub channels and subscribers; `pubsub.publish(channel, message)` for other code. */
  readonly pubsub: PubSub;
  /** client-output-buffer-limit, per client class. */
  readonly outputLimits: OutputLimits;
  readonly blocking = new Blocking(this);
  /** Open sessions (EXEC, cross-shard commands) and the one whose commands are being dispatched. */
  sessions = 0;
  activeSession: Session | null = null;
  /** notify-keyspace-events flags as shards use them (for the cross-shard executor's scratch runs). */
  get notifyFlags(): number {
    return this.pubsub.shardFlags;
  }
  readonly conns = new Map<number, Connection>();
  readonly startedAt = Date.now();
  /** Highest used_memory INFO has reported. */
  peakMemory = 0;
  configFile: string | null = null;
  /** The config file behind CONFIG REWRITE and SIGHUP reloads (set by main); null in tests that build a Server. */
  configSource: ConfigFile | null = null;
  /** ops/s for STATS: the cron samples every shard's op counter. */
  readonly opsSampler: OpsSampler;
  readonly stats: ServerStats = {
    totalConnections: 0,
    rejectedConnections: 0,
    netInput: 0,
    netOutput: 0,
    protocolErrors: 0,
  };
  private readonly listeners: net.Server[] = [];
  private nextConnId = COORDINATOR_CONN + 1;
  private readonly flushList: Connection[] = [];
  private readonly ringBlocked = new Set<Connection>();
  readonly monitor = new MonitorFeed();
  readonly pause = new ClientPause(() => this.resumePaused());
  private publishScheduled = false;
  private cron: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  /** Accepting connections: set once start() has listened, cleared when shutdown begins (/ready). */
  ready = false;
  private metricsHttp: MetricsHttp | null = null;
  /** Resolves when the server has fully stopped. */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(config: LiveConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    const shardCount = config.get('shards');
    this.persistence = new Persistence(config, log, shardCount);
    this.shards = new ShardSet({
      shards: shardCount,
      databases: config.get('databases'),
      ringSize: config.get('ring-size'),
      maxBulkLen: config.get('proto-max-bulk-len'),
      expireBudgetMs: config.get('active-expire-budget-ms'),
      commands: TABLE.length,
      slowlogSlowerThan: config.get('slowlog-log-slower-than'),
      slowlogMaxLen: config.get('slowlog-max-len'),
      extra: (i) => this.persistence.shardInit(i),
    });
    attachLocalCommands();
    this.opsSampler = new OpsSampler(shardCount);
    this.commandStats = new CommandStats(this.shards);
    this.latency = new LatencyMonitor(
      Array.from({ length: shardCount }, (_, i) => this.shards.latencyBlock(i)),
      config.get('latency-monitor-threshold'),
    );
    config.onChange((name, value) => {
      if (name === 'latency-monitor-threshold') this.latency.setThreshold(value as number);
    });
    this.slowlog.threshold = config.get('slowlog-log-slower-than');
    this.slowlog.maxLen = config.get('slowlog-max-len');
    // maxmemory and the eviction settings: every shard gets its share now and on CONFIG SET.
    const memoryParam = (name: string, value: unknown): void =>
      this.shards.broadcast({ type: 'config', name, value: shardValue(name, value, shardCount) });
    for (const name of MEMORY_PARAMS) memoryParam(name, config.get(name));
    config.onChange((name, value) => {
      if ((MEMORY_PARAMS as readonly string[]).includes(name)) memoryParam(name, value);
    });
    this.dispatcher = new Dispatcher(this, TABLE.length);
    this.coordinator = new Coordinator(this);
    this.outputLimits = new OutputLimits(config.get('client-output-buffer-limit'));
    this.pubsub = new PubSub((conn, bytes) => {
      conn.push(bytes);
      enforceOutputLimit(this, conn);
    });
    wirePubSub(this);
    this.shards.onDrained = this.afterReplies;
    this.shards.onExit = (i, code) => {
      this.log.fatal({ shard: i, code }, 'shard worker exited unexpectedly; shutting down');
      void this.shutdown(1);
    };
    config.onChange((name, value) => {
      if (SHARD_PARAMS.has(name)) {
        this.shards.broadcast({ type: 'config', name, value });
      }
      if (name === 'proto-max-bulk-len' || name === 'client-query-buffer-limit') {
        const limits = this.parserLimits();
        for (const conn of this.conns.values()) conn.parser.setLimits(limits);
      }
      if (name === 'hz') this.startCron();
      if (name === 'slowlog-log-slower-than') this.slowlog.threshold = value as number;
      if (name === 'slowlog-max-len') {
        this.slowlog.maxLen = value as number;
        this.slowlog.trim();
      }
    });
  }

  async start(): Promise<void> {
    this.shards.start(this.onReply);
    this.persistence.start();
    const port = this.config.get('port');
    for (const addr of this.config.get('bind')) {
      const optional = addr.startsWith('-');
      const raw = optional ? addr.slice(1) : addr;
      const host = raw === '*' ? '0.0.0.0' : raw === '::*' ? '::' : raw;
      // Paused on connect: accept() moves the handle into a socket with a shared read buffer.
      const srv = net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', (err) =>
            reject(new StartupError(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err })),
          );
          // With --port 0 every address shares the port the first one got.
          srv.listen({ host, port: this.listeners.length > 0 ? this.port : port, backlog: 511 }, () =>
            resolve(),
          );
        });
      } catch (err) {
        if (!optional) throw err;
        this.log.warn({ bind: raw, err: (err as Error).message }, 'optional bind address skipped');
        continue;
      }
      srv.on('error', (err) => this.log.error({ err }, 'listener error'));
      this.listeners.push(srv);
    }
    if (this.listeners.length === 0) throw new StartupError('no bind address could be listened on');
    this.startCron();
    this.metricsHttp = await MetricsHttp.start(this, this.log);
    // Clients connecting meanwhile get -LOADING; the ready line follows the load.
    await this.persistence.loaded;
    this.ready = !this.shuttingDown;
  }

  get stopping(): boolean {
    return this.shuttingDown;
  }

  /** The metrics/health HTTP port actually bound; 0 when disabled. */
  get metricsPort(): number {
    return this.metricsHttp?.port ?? 0;
  }

  /** The port actually bound (useful with --port 0). */
  get port(): number {
    const a = this.listeners[0]?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  private accept(raw: net.Socket): void {
    if (this.shuttingDown) return void raw.destroy();
    const refusal = admissionError(this.config, this.conns.size, raw);
    if (refusal !== null) {
      this.stats.rejectedConnections++;
      raw.resume();
      rejectClient(raw, refusal);
      return;
    }
    const requirepass = this.config.get('requirepass');
    let conn: Connection | null = null;
    const socket = adoptSocket(raw, (chunk) => this.onData(conn!, chunk));
    const keepalive = this.config.get('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    conn = new Connection(this.nextConnId++, socket, this.parserLimits(), requirepass === '');
    const c = conn;
    this.conns.set(c.id, c);
    c.onPush = () => this.queueFlush(c);
    this.stats.totalConnections++;
    socket.on('drain', () => {
      c.blockedOnWrite = false;
      if (!c.blockedOnRing && !c.blockedOnPause) socket.resume();
    });
    socket.on('error', (err) => this.log.debug({ err: err.message, client: c.id }, 'client socket error'));
    socket.on('close', () => this.onClose(c));
  }

  parserLimits(): { maxBulkLen: number; maxQueryBuffer: number } {
    return {
      maxBulkLen: this.config.get('proto-max-bulk-len'),
      maxQueryBuffer: this.config.get('client-query-buffer-limit'),
    };
  }

  private onData(conn: Connection, chunk: Buffer): void {
    this.stats.netInput += chunk.length;
    conn.lastInteraction = Date.now();
    conn.parser.feed(chunk);
    this.processInput(conn);
    // The chunk's memory is reused by the next read (shared-read.ts).
    conn.parser.detach();
    this.flush(conn);
    this.schedulePublish();
  }

  /** Parse and dispatch until input runs out, a ring is full, or the client is closing. */
  processInput(conn: Connection): void {
    const p = conn.parser;
    while (!conn.blockedOnRing && !conn.blockedOnPause && !conn.closing && !conn.parked) {
      const r = p.next();
      if (r === 0) break;
      if (r < 0) {
        this.stats.protocolErrors++;
        this.log.debug({ client: conn.id, error: p.error }, 'protocol error');
        this.dispatcher.fail(conn, p.error);
        this.closeAfterReply(conn);
        break;
      }
      if (!this.dispatcher.dispatch(conn)) {
        p.rewind();
        conn.socket.pause();
        if (conn.blockedOnPause) this.pause.held.add(conn);
        else {
          conn.blockedOnRing = true;
          this.ringBlocked.add(conn);
        }
        break;
      }
    }
  }

  /** Reply (from the coordinator or a deferred handler) for `seq` of `conn`, if still connected. */
  deliver(conn: Connection, seq: number, reply: Buffer): void {
    if (conn.closed) return;
    if (conn.combiners.size === 0 || !conn.part(seq, 0, reply, 0, reply.length))
      conn.reply(seq, reply, 0, reply.length);
    this.flush(conn);
  }

  /** Stop processing the connection's input until unpark() (EXEC, blocked commands). */
  park(conn: Connection): void {
    conn.parked = true;
  }

  unpark(conn: Connection): void {
    if (!conn.parked) return;
    conn.parked = false;
    if (conn.closed) return;
    this.processInput(conn);
    this.flush(conn);
    this.schedulePublish();
    if (!conn.blockedOnRing && !conn.blockedOnPause && !conn.blockedOnWrite && !conn.parked)
      conn.socket.resume();
  }

  /** Route `argv` again for a parked connection under sequence number `seq` (blocked clients' retries). */
  redispatch(conn: Connection, argv: Buffer[], seq: number): boolean {
    const real = conn.parser;
    setParser(conn, argvParser(argv));
    conn.rewindSeq(seq);
    try {
      return this.dispatcher.reroute(conn);
    } finally {
      setParser(conn, real);
    }
  }

  /** Keyspace notifications produced on main (the cross-shard executor's scratch runs). */
  keyspaceEvents(events: (number | string | Uint8Array)[]): void {
    this.pubsub.keyspaceEvents(events);
  }

  closeAfterReply(conn: Connection): void {
    conn.closing = true;
    if (conn.outstanding === 0) {
      this.flush(conn);
      conn.socket.end();
    }
  }

  private readonly onReply = (
    shard: number,
    connId: number,
    seq: number,
    buf: Buffer,
    off: number,
    len: number,
  ): void => {
    if (connId === COORDINATOR_CONN) return this.coordinator.onReply(shard, seq, buf, off, len);
    const conn = this.conns.get(connId);
    if (conn === undefined) return; // client left; its replies are dropped
    if (conn.combiners.size === 0 || !conn.part(seq, shard, buf, off, len)) conn.reply(seq, buf, off, len);
    if (!conn.inFlushList) {
      conn.inFlushList = true;
      this.flushList.push(conn);
    }
  };

  private readonly afterReplies = (): void => {
    for (const conn of this.flushList) {
      conn.inFlushList = false;
      this.flush(conn);
    }
    this.flushList.length = 0;
    if (this.ringBlocked.size > 0) {
      for (const conn of [...this.ringBlocked]) {
        this.ringBlocked.delete(conn);
        conn.blockedOnRing = false;
        this.processInput(conn);
        this.flush(conn);
        if (!conn.blockedOnRing && !conn.blockedOnWrite) conn.socket.resume();
      }
      this.schedulePublish();
    }
  };

  flush(conn: Connection): void {
    // Judged before writing, as Redis judges its reply list (subscribers: as messages arrive).
    if (this.outputLimits.normalLimited && !conn.subscribed && enforceOutputLimit(this, conn)) return;
    const n = conn.pendingOutput;
    if (!conn.flush()) {
      conn.blockedOnWrite = true;
      conn.socket.pause();
    }
    this.stats.netOutput += n;
    if (conn.closing && conn.outstanding === 0 && !conn.closed) conn.socket.end();
  }

  /** Flush `conn` at the end of this turn (several pushes become one write). */
  queueFlush(conn: Connection): void {
    if (!conn.inFlushList) {
      conn.inFlushList = true;
      this.flushList.push(conn);
    }
    this.schedulePublish();
  }

  /** Resume the connections CLIENT PAUSE held, in order (called when the pause ends). */
  private readonly resumePaused = (): void => {
    for (const conn of [...this.pause.held]) {
      this.pause.held.delete(conn);
      conn.blockedOnPause = false;
      if (conn.closed) continue;
      this.processInput(conn);
      this.flush(conn);
      if (!conn.blockedOnRing && !conn.blockedOnPause && !conn.blockedOnWrite) conn.socket.resume();
    }
    this.schedulePublish();
  };

  schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(this.publishNow);
  }

  private readonly publishNow = (): void => {
    this.publishScheduled = false;
    this.shards.publish();
    if (this.flushList.length > 0) {
      for (const conn of this.flushList) {
        conn.inFlushList = false;
        this.flush(conn);
      }
      this.flushList.length = 0;
    }
  };

  private onClose(conn: Connection): void {
    conn.closed = true;
    this.pubsub.removeClient(conn);
    this.conns.delete(conn.id);
    this.ringBlocked.delete(conn);
    this.pause.held.delete(conn);
    this.monitor.clients.delete(conn);
    this.blocking.remove(conn);
    unwatchAll(this, conn);
    conn.combiners.clear();
  }

  private startCron(): void {
    if (this.cron) clearInterval(this.cron);
    this.cron = setInterval(() => this.serverCron(), Math.max(1, Math.round(1000 / this.config.get('hz'))));
    this.cron.unref();
  }

  /** `hz` times a second: idle timeouts and buffer shrinking. */
  private serverCron(): void {
    const timeout = this.config.get('timeout');
    const now = Date.now();
    this.opsSampler.sample(now, (i) => this.shards.stats(i)[ST_OPS]!);
    // used_memory_peak: sampled here too, not only when INFO or MEMORY STATS is asked.
    this.peakMemory = Math.max(this.peakMemory, usedMemory(this));
    for (const conn of this.conns.values()) {
      conn.shrink();
      if (timeout > 0 && now - conn.lastInteraction > timeout * 1000 && conn.outstanding === 0)
        conn.socket.destroy();
    }
  }

  /**
   * Stop accepting; drain (clean stops only): no further commands are dispatched, the ones in
   * flight finish and their replies reach the socket, each connection is ended once it owes
   * nothing, for at most `shutdown-timeout` seconds; then close the clients left, stop the
   * shards and resolve `stopped`. A fatal stop (a shard died, startup failed) does not wait.
   * `save` is SHUTDOWN's option: unless NOSAVE (or a fatal stop), each shard finishes a
   * running snapshot or takes one before it exits (persistence/shutdown-save.ts), within the
   * overall limit of a shutdown (`shutdown-timeout` + SHUTDOWN_GRACE_S from its start).
   */
  async shutdown(code = 0, save: ShutdownSave = 'default'): Promise<void> {
    if (this.shuttingDown) return this.stopped;
    const started = Date.now();
    this.shuttingDown = true;
    this.ready = false;
    if (this.cron) clearInterval(this.cron);
    // close() resolves once every connection is gone; new connections are refused meanwhile.
    const closed = Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    const timeoutMs = code === 0 ? this.config.get('shutdown-timeout') * 1000 : 0;
    const drain = await drainClients(
      this.conns,
      (conn) => this.flush(conn),
      timeoutMs,
      (clients, inFlight) =>
        this.log.info({ clients, inFlight, timeoutMs }, 'shutting down: draining clients'),
    );
    if (drain.cutOff > 0 && timeoutMs > 0) {
      this.log.warn(drain, 'shutdown drain timed out; closed the clients left');
    } else this.log.info(drain, 'closed client connections');
    await closed;
    // Snapshots end 1 s before the point where a signalled shutdown gives up (main.ts).
    const deadline = started + (this.config.get('shutdown-timeout') + SHUTDOWN_GRACE_S - 1) * 1000;
    const stopping = Date.now();
    await this.shards.stop(code === 0 ? save : 'nosave', deadline);
    const shardsMs = Date.now() - stopping;
    await this.persistence.stop();
    await this.metricsHttp?.close();
    this.log.info({ code, ms: Date.now() - started, shardsMs }, 'bye');
    process.exitCode = code;
    this.resolveStopped();
  }
}
