/**
 * Fast pipelined writes for tests that need a lot of data (eviction, lazy free, RSS runs):
 * windows of commands on one connection, replies counted by their first byte, and the
 * daemon's RSS read from /proc.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface BulkResult {
  ok: number;
  /** Error replies by text (first line). */
  errors: Map<string, number>;
}

/** Number of complete RESP replies in b from `pos` (simple types, bulks, flat arrays). */
function scanReplies(b: Buffer, pos: number): { n: number; pos: number; oks: number; errs: string[] } {
  let n = 0;
  let oks = 0;
  const errs: string[] = [];
  while (pos < b.length) {
    const eol = b.indexOf('\r\n', pos);
    if (eol < 0) break;
    const type = b[pos];
    let end = eol + 2;
    if (type === 36) {
      const len = Number(b.toString('latin1', pos + 1, eol));
      if (len >= 0) end = eol + 2 + len + 2;
    } else if (type === 42) {
      // Flat arrays of simple items only (what the loaders send back): count as one reply.
      let items = Number(b.toString('latin1', pos + 1, eol));
      let p = eol + 2;
      while (items-- > 0 && p < b.length) {
        const e2 = b.indexOf('\r\n', p);
        if (e2 < 0) return { n, pos, oks, errs };
        if (b[p] === 36) {
          const len = Number(b.toString('latin1', p + 1, e2));
          p = len >= 0 ? e2 + 2 + len + 2 : e2 + 2;
        } else p = e2 + 2;
      }
      if (items >= 0) break;
      end = p;
    }
    if (end > b.length) break;
    if (type === 43) oks++;
    else if (type === 45) errs.push(b.toString('latin1', pos + 1, eol));
    n++;
    pos = end;
  }
  return { n, pos, oks, errs };
}

/**
 * Send `count` commands built by `cmd(i)` with up to `window` in flight; resolves with the
 * tally once every reply arrived. `onProgress` runs between windows (e.g. to sample RSS).
 */
export async function pipeline(
  port: number,
  count: number,
  cmd: (i: number) => Buffer,
  window = 512,
  onProgress?: (done: number) => void,
): Promise<BulkResult> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const result: BulkResult = { ok: 0, errors: new Map() };
  let buf: Buffer = Buffer.alloc(0);
  let received = 0;
  let sent = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const fill = (): void => {
        const parts: Buffer[] = [];
        while (sent < count && sent - received < window) parts.push(cmd(sent++));
        if (parts.length > 0) sock.write(Buffer.concat(parts));
      };
      sock.on('data', (d: Buffer) => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
        const r = scanReplies(buf, 0);
        buf = buf.subarray(r.pos);
        received += r.n;
        result.ok += r.oks;
        for (const e of r.errs) result.errors.set(e, (result.errors.get(e) ?? 0) + 1);
        onProgress?.(received);
        if (received >= count) resolve();
        else if (sent - received < window / 2) fill();
      });
      sock.once('error', reject);
      sock.once('close', () => reject(new Error(`connection closed after ${received}/${count} replies`)));
      fill();
    });
  } finally {
    sock.removeAllListeners('close');
    sock.destroy();
  }
  return result;
}

/** RESP for SET key value [EX ttl]. */
export function setCmd(key: string, value: Buffer | string, ttl = 0): Buffer {
  const k = Buffer.from(key);
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  const head = ttl > 0 ? `*5\r\n$3\r\nSET\r\n` : `*3\r\n$3\r\nSET\r\n`;
  const tail = ttl > 0 ? `\r\n$2\r\nEX\r\n$${String(ttl).length}\r\n${ttl}\r\n` : '\r\n';
  return Buffer.concat([
    Buffer.from(`${head}$${k.length}\r\n`),
    k,
    Buffer.from(`\r\n$${v.length}\r\n`),
    v,
    Buffer.from(tail),
  ]);
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
