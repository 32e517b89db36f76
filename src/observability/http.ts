/**
 * The metrics and health endpoint: a plain node:http server on metrics-bind:metrics-port.
 *
 *   GET /metrics  Prometheus text format (see metrics.ts)
 *   GET /health   200 while the process runs
 *   GET /live     200 when the main thread and every shard's loop are responsive within
 *                 LIVE_DEADLINE_MS, 503 naming the stalled threads otherwise
 *   GET /ready    200 once the server accepts connections, 503 before and once shutdown began
 *
 * JSON bodies for everything but /metrics; 404 for other paths, 405 for methods other than
 * GET/HEAD. No authentication: it serves figures only (no keys, values or config), and binds
 * to loopback by default.
 */
import http from 'node:http';
import type { Logger } from './logger.ts';
import { createMetrics, heartbeatAgeMs, type Metrics } from './metrics.ts';
import type { Server } from '../server/server.ts';
import { StartupError } from '../util/errors.ts';

/** A thread whose loop has not turned for this long is reported stalled by /live. */
export const LIVE_DEADLINE_MS = 2000;
const MAIN_TICK_MS = 100;

export interface Liveness {
  ok: boolean;
  body: {
    status: 'ok' | 'stalled';
    deadline_ms: number;
    threads: { thread: string; age_ms: number; stalled: boolean }[];
    stalled: string[];
  };
}

/**
 * /live's verdict from the age of each thread's last loop turn: the main thread's own tick and
 * each shard's stats heartbeat (published at least every 100 ms while its loop runs).
 */
export function liveness(mainAgeMs: number, shardAgesMs: readonly number[], deadlineMs: number): Liveness {
  const threads = [
    { thread: 'main', age_ms: Math.round(mainAgeMs), stalled: mainAgeMs > deadlineMs },
    ...shardAgesMs.map((age, i) => ({
      thread: `shard-${i}`,
      age_ms: Math.round(age),
      stalled: age > deadlineMs,
    })),
  ];
  const stalled = threads.filter((t) => t.stalled).map((t) => t.thread);
  return {
    ok: stalled.length === 0,
    body: { status: stalled.length === 0 ? 'ok' : 'stalled', deadline_ms: deadlineMs, threads, stalled },
  };
}

export class MetricsHttp {
  private readonly srv: Server;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly http: http.Server;
  private readonly ticker: NodeJS.Timeout;
  /** When the main thread's event loop last ran our tick (ms, performance.now()). */
  private lastTick = performance.now();

  private constructor(srv: Server, log: Logger) {
    this.srv = srv;
    this.log = log;
    this.metrics = createMetrics(srv);
    this.ticker = setInterval(() => (this.lastTick = performance.now()), MAIN_TICK_MS);
    this.ticker.unref();
    this.http = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on metrics-bind:metrics-port; null when metrics-port is 0. */
  static async start(srv: Server, log: Logger): Promise<MetricsHttp | null> {
    const port = srv.config.get('metrics-port');
    if (port === 0) return null;
    const bind = srv.config.get('metrics-bind');
    const host = bind === '*' ? '0.0.0.0' : bind === '::*' ? '::' : bind;
    const m = new MetricsHttp(srv, log);
    try {
      await new Promise<void>((resolve, reject) => {
        m.http.once('error', reject);
        m.http.listen({ host, port }, () => {
          m.http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await m.close();
      throw new StartupError(`cannot listen on ${host}:${port} (metrics-port): ${(err as Error).message}`, {
        cause: err,
      });
    }
    m.http.on('error', (err) => log.error({ err }, 'metrics listener error'));
    log.info({ bind: host, port: m.port }, 'metrics and health endpoints listening');
    return m;
  }

  get port(): number {
    const a = this.http.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    this.metrics.close();
    if (!this.http.listening) return;
    const closed = new Promise<void>((r) => this.http.close(() => r()));
    // Prometheus and probes keep connections alive; close() alone would wait for them.
    this.http.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = ROUTES.get(path);
    if (route === undefined) return json(res, 404, { error: 'not found', paths: [...ROUTES.keys()] });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return json(res, 405, { error: 'method not allowed' });
    }
    try {
      await route(this, res);
    } catch (err) {
      this.log.error({ err, path }, 'metrics endpoint failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }

  async serveMetrics(res: http.ServerResponse): Promise<void> {
    const text = await this.metrics.render();
    res.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  }

  serveLive(res: http.ServerResponse): void {
    const now = Date.now();
    const shards: number[] = [];
    for (let i = 0; i < this.srv.shards.count; i++) shards.push(heartbeatAgeMs(this.srv, i, now));
    const live = liveness(performance.now() - this.lastTick, shards, LIVE_DEADLINE_MS);
    json(res, live.ok ? 200 : 503, live.body);
  }

  serveReady(res: http.ServerResponse): void {
    if (this.srv.ready) return json(res, 200, { status: 'ready' });
    json(res, 503, { status: this.srv.stopping ? 'shutting down' : 'starting' });
  }
}

type Route = (m: MetricsHttp, res: http.ServerResponse) => void | Promise<void>;
const ROUTES = new Map<string, Route>([
  ['/metrics', (m, res) => m.serveMetrics(res)],
  ['/health', (_m, res) => json(res, 200, { status: 'ok' })],
  ['/live', (m, res) => m.serveLive(res)],
  ['/ready', (m, res) => m.serveReady(res)],
]);

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
