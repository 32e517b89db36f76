/**
 * Protocol-level helpers for integration tests: a raw TCP client that collects every byte the
 * server sends (and notices when it closes), a minimal RESP encoder, and a redis-cli runner.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import type t from 'tap';
import { startRedis, startTessera, type Proc } from './server.ts';

/** The type of a tap subtest's `t`. */
export type TT = Parameters<Parameters<typeof t.test>[0]>[0];

export interface RawClient {
  sock: net.Socket;
  /** Everything received so far. */
  data(): Buffer;
  /** Resolves when the server closed the connection (or it errored). */
  closed: Promise<void>;
  isClosed(): boolean;
  write(b: string | Buffer): void;
  /** Waits until the received bytes satisfy `pred` (default: at least one CRLF-terminated line). */
  until(pred: (b: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  /** Clears the received buffer, writes, and waits for `pred`. Returns the bytes as a string. */
  ask(b: string | Buffer, pred?: (b: Buffer) => boolean, timeoutMs?: number): Promise<string>;
  end(): void;
}

export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const sock = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  let buf: Buffer = Buffer.alloc(0);
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  sock.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    wake();
  });
  const closedP = new Promise<void>((resolve) => {
    const done = (): void => {
      closed = true;
      resolve();
      wake();
    };
    sock.once('close', done);
    sock.on('error', () => {});
  });
  const client: RawClient = {
    sock,
    data: () => buf,
    closed: closedP,
    isClosed: () => closed,
    write: (b) => void sock.write(b),
    until(pred = (b) => b.includes('\r\n'), timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pred(buf)) {
            cleanup();
            resolve(buf);
          } else if (closed) {
            cleanup();
            reject(new Error(`connection closed; received ${JSON.stringify(buf.toString('latin1'))}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timeout; received ${JSON.stringify(buf.toString('latin1').slice(0, 500))}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async ask(b, pred, timeoutMs) {
      buf = Buffer.alloc(0);
      sock.write(b);
      return (await client.until(pred ?? ((x) => x.includes('\r\n')), timeoutMs)).toString('latin1');
    },
    end: () => sock.destroy(),
  };
  return client;
}

/** Encodes a command as a RESP multibulk. */
export function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Length in bytes of the first complete RESP2/RESP3 reply in `b`, or -1 if incomplete. */
export function replyLength(b: Buffer, pos = 0): number {
  const end = b.indexOf('\r\n', pos);
  if (end < 0) return -1;
  const t = String.fromCharCode(b[pos]!);
  const head = b.toString('latin1', pos + 1, end);
  const after = end + 2;
  if ('+-:_#,('.includes(t)) return after - pos;
  if (t === '$' || t === '=' || t === '!') {
    const n = Number(head);
    if (n < 0) return after - pos;
    return b.length >= after + n + 2 ? after + n + 2 - pos : -1;
  }
  if (t === '*' || t === '~' || t === '%' || t === '>') {
    let n = Number(head);
    if (n < 0) return after - pos;
    if (t === '%') n *= 2;
    let p = after;
    for (let i = 0; i < n; i++) {
      const l = replyLength(b, p);
      if (l < 0) return -1;
      p += l;
    }
    return p - pos;
  }
  throw new Error(
    `bad reply type ${JSON.stringify(t)} in ${JSON.stringify(b.toString('latin1', pos, pos + 80))}`,
  );
}

/** Number of complete replies at the start of `b`. */
export function countReplies(b: Buffer): number {
  let n = 0;
  let p = 0;
  while (p < b.length) {
    const l = replyLength(b, p);
    if (l < 0) break;
    p += l;
    n++;
  }
  return n;
}

/** Splits `b` into its complete replies (as latin1 strings). */
export function splitReplies(b: Buffer): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < b.length) {
    const l = replyLength(b, p);
    if (l < 0) break;
    out.push(b.toString('latin1', p, p + l));
    p += l;
  }
  return out;
}

/** Predicate: at least `n` complete replies received. */
export const replies =
  (n: number) =>
  (b: Buffer): boolean =>
    countReplies(b) >= n;

/** Runs redis-cli against `port`; resolves with stdout (redis-cli exits 0 even on -ERR replies). */
export function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-p', String(port), ...args], { timeout: 10000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Tessera and a real redis-server side by side, each with a raw client, stopped when the test
 * file ends: the setup of every differential integration test.
 */
export async function startOraclePair(
  tap: { teardown(fn: () => unknown): void },
  flags: string[],
): Promise<{ tes: Proc; red: Proc; tc: RawClient; rc: RawClient }> {
  const tes = await startTessera(flags);
  const red = await startRedis();
  const tc = await rawConnect(tes.port);
  const rc = await rawConnect(red.port);
  tap.teardown(async () => {
    tc.end();
    rc.end();
    await tes.stop();
    await red.stop();
  });
  return { tes, red, tc, rc };
}
