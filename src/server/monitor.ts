import type { Connection } from './connection.ts';

/**
 * MONITOR feed: each dispatched command, as Redis prints it
 * (`+<unix seconds>.<µs> [<db> <addr>] "CMD" "arg" …`), quoted with sdscatrepr rules.
 * Costs nothing unless a client is monitoring.
 */
export class MonitorFeed {
  readonly clients = new Set<Connection>();

  /** Commands whose arguments are secrets are not shown (Redis skips them too). */
  static readonly SKIP = new Set(['auth', 'hello', 'config|set', 'migrate']);

  feed(from: Connection, db: number, buf: Buffer, starts: Int32Array, ends: Int32Array, argc: number): void {
    const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
    const secs = Math.floor(now / 1e6);
    const us = String(now % 1e6).padStart(6, '0');
    let line = `+${secs}.${us} [${db} ${from.addr}]`;
    for (let i = 0; i < argc; i++) line += ` ${repr(buf, starts[i]!, ends[i]!)}`;
    const bytes = Buffer.from(line + '\r\n', 'latin1');
    for (const m of this.clients) {
      if (m.closed) {
        this.clients.delete(m);
        continue;
      }
      m.push(bytes);
    }
  }
}

/** sdscatrepr: printable ASCII as is, \\ and " escaped, \n \r \t \a \b, others as \xHH. */
export function repr(b: Buffer, s: number, e: number): string {
  let out = '"';
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 92) out += '\\\\';
    else if (c === 34) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c >= 32 && c <= 126) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out + '"';
}
