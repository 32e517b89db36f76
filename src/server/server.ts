import net from 'node:net';
import { attachLocalCommands } from '../commands/local-commands.ts';
import { TABLE } from '../commands/table.ts';
import type { LiveConfig } from '../config/live.ts';
import type { Logger } from '../observability/logger.ts';
import { E } from '../protocol/redis-errors.ts';
import { ShardSet } from '../router/shards.ts';
import { StartupError } from '../util/errors.ts';
import { Connection } from './connection.ts';
import { COORDINATOR_CONN, Coordinator } from './coordinator.ts';
import { Dispatcher } from './dispatch.ts';
import { CommandStats } from '../observability/command-stats.ts';
import { SlowLog } from '../observability/slowlog.ts';

/** Parameters the shard workers apply themselves (sent on their control port). */
const SHARD_PARAMS = new Set([
  'proto-max-bulk-len',
  'active-expire-budget-ms',
  'slowlog-log-slower-than',
  'slowlog-max-len',
]);

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
  /** Slow commands executed on the main thread (shards keep their own). */
  readonly slowlog = new SlowLog();
  readonly coordinator: Coordinator;
  readonly conns = new Map<number, Connection>();
  readonly startedAt = Date.now();
  /** Highest used_memory INFO has reported. */
  peakMemory = 0;
  configFile: string | null = null;
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
  private publishScheduled = false;
  private cron: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  /** Resolves when the server has fully stopped. */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(config: LiveConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    const shardCount = config.get('shards');
    this.shards = new ShardSet({
      shards: shardCount,
      databases: config.get('databases'),
      ringSize: config.get('ring-size'),
      maxBulkLen: config.get('proto-max-bulk-len'),
      expireBudgetMs: config.get('active-expire-budget-ms'),
      commands: TABLE.length,
      slowlogSlowerThan: config.get('slowlog-log-slower-than'),
      slowlogMaxLen: config.get('slowlog-max-len'),
    });
    attachLocalCommands();
    this.commandStats = new CommandStats(this.shards);
    this.slowlog.threshold = config.get('slowlog-log-slower-than');
    this.slowlog.maxLen = config.get('slowlog-max-len');
    this.dispatcher = new Dispatcher(this, TABLE.length);
    this.coordinator = new Coordinator(this);
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
    const port = this.config.get('port');
    for (const addr of this.config.get('bind')) {
      const optional = addr.startsWith('-');
      const raw = optional ? addr.slice(1) : addr;
      const host = raw === '*' ? '0.0.0.0' : raw === '::*' ? '::' : raw;
      const srv = net.createServer({ noDelay: true }, (s) => this.accept(s));
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
  }

  /** The port actually bound (useful with --port 0). */
  get port(): number {
    const a = this.listeners[0]?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  private accept(socket: net.Socket): void {
    if (this.shuttingDown) return void socket.destroy();
    const maxclients = this.config.get('maxclients');
    if (this.conns.size >= maxclients) {
      this.stats.rejectedConnections++;
      rejectClient(socket, E.MAX_CLIENTS);
      return;
    }
    const requirepass = this.config.get('requirepass');
    if (this.config.get('protected-mode') && requirepass === '' && !isLoopback(socket.remoteAddress)) {
      this.stats.rejectedConnections++;
      rejectClient(socket, E.PROTECTED_MODE);
      return;
    }
    const keepalive = this.config.get('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const conn = new Connection(this.nextConnId++, socket, this.parserLimits(), requirepass === '');
    this.conns.set(conn.id, conn);
    this.stats.totalConnections++;
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('drain', () => {
      conn.blockedOnWrite = false;
      if (!conn.blockedOnRing) socket.resume();
    });
    socket.on('error', (err) => this.log.debug({ err: err.message, client: conn.id }, 'client socket error'));
    socket.on('close', () => this.onClose(conn));
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
    this.flush(conn);
    this.schedulePublish();
  }

  /** Parse and dispatch until input runs out, a ring is full, or the client is closing. */
  processInput(conn: Connection): void {
    const p = conn.parser;
    while (!conn.blockedOnRing && !conn.closing) {
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
        conn.blockedOnRing = true;
        conn.socket.pause();
        this.ringBlocked.add(conn);
        break;
      }
    }
  }

  /** Reply (from the coordinator or a deferred handler) for `seq` of `conn`, if still connected. */
  deliver(conn: Connection, seq: number, reply: Buffer): void {
    if (conn.closed) return;
    conn.reply(seq, reply, 0, reply.length);
    this.flush(conn);
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
    const n = conn.pendingOutput;
    if (!conn.flush()) {
      conn.blockedOnWrite = true;
      conn.socket.pause();
    }
    this.stats.netOutput += n;
    if (conn.closing && conn.outstanding === 0 && !conn.closed) conn.socket.end();
  }

  schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    setImmediate(this.publishNow);
  }

  private readonly publishNow = (): void => {
    this.publishScheduled = false;
    this.shards.publish();
  };

  private onClose(conn: Connection): void {
    conn.closed = true;
    this.conns.delete(conn.id);
    this.ringBlocked.delete(conn);
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
    for (const conn of this.conns.values()) {
      conn.shrink();
      if (timeout > 0 && now - conn.lastInteraction > timeout * 1000 && conn.outstanding === 0)
        conn.socket.destroy();
    }
  }

  async shutdown(code = 0): Promise<void> {
    if (this.shuttingDown) return this.stopped;
    this.shuttingDown = true;
    this.log.info('shutting down');
    if (this.cron) clearInterval(this.cron);
    // close() waits for open connections, so stop accepting, then drop the clients.
    const closed = Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    for (const conn of this.conns.values()) {
      this.flush(conn);
      conn.socket.destroy();
    }
    await closed;
    await this.shards.stop();
    this.log.info({ code }, 'bye');
    process.exitCode = code;
    this.resolveStopped();
  }
}

/**
 * Answer a refused client and drop it once the error is flushed. A bare end() would leave a
 * half-closed socket we never read (it never closes, and it keeps shutdown waiting).
 */
function rejectClient(socket: net.Socket, error: string): void {
  socket.on('error', () => {});
  socket.end(`-${error}\r\n`, () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

function isLoopback(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.') || addr.startsWith('/');
}
