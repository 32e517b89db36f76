/**
 * tessera-admin's own RESP client: a raw TCP connection, commands encoded as arrays of bulk
 * strings, replies decoded incrementally (RESP2 and RESP3). Small on purpose: the admin CLI
 * must not depend on a client library at run time.
 */
import net from 'node:net';

/** An error reply (`-ERR …`): a value, not a thrown exception, like in redis-cli. */
export class ReplyError {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
  /** The first word: ERR, NOAUTH, WRONGPASS, DENIED… */
  get code(): string {
    return this.message.split(' ', 1)[0]!;
  }
}

export type Reply = null | boolean | number | bigint | string | ReplyError | Reply[] | Map<string, Reply>;

/** The connection failed, closed, or timed out: the message is one line for the user. */
export { ConnectionError };

import { ConnectionError } from '../util/errors.ts';

const INCOMPLETE = Symbol('incomplete');

/**
 * Decodes one reply starting at `pos.p`; throws INCOMPLETE when the buffer ends first (the
 * caller waits for more bytes and retries from the same offset). Bulk strings are UTF-8; maps
 * become Maps with string keys; attributes are skipped; verbatim strings lose their format.
 */
function decode(b: Buffer, pos: { p: number }): Reply {
  const line = (): string => {
    const eol = b.indexOf('\r\n', pos.p, 'latin1');
    if (eol < 0) throw INCOMPLETE;
    const s = b.toString('utf8', pos.p, eol);
    pos.p = eol + 2;
    return s;
  };
  const bytes = (n: number): string => {
    if (pos.p + n + 2 > b.length) throw INCOMPLETE;
    const s = b.toString('utf8', pos.p, pos.p + n);
    pos.p += n + 2;
    return s;
  };
  if (pos.p >= b.length) throw INCOMPLETE;
  const type = String.fromCharCode(b[pos.p++]!);
  switch (type) {
    case '+':
      return line();
    case '-':
      return new ReplyError(line());
    case ':':
      return Number(line());
    case '(':
      return BigInt(line());
    case ',': {
      const s = line();
      return s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
    }
    case '#':
      return line() === 't';
    case '_':
      line();
      return null;
    case '$':
    case '!':
    case '=': {
      const n = Number(line());
      if (n < 0) return null;
      const s = bytes(n);
      if (type === '!') return new ReplyError(s);
      return type === '=' ? s.slice(4) : s;
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(line());
      if (n < 0) return null;
      const out: Reply[] = [];
      for (let i = 0; i < n; i++) out.push(decode(b, pos));
      return out;
    }
    case '%':
    case '|': {
      const n = Number(line());
      const m = new Map<string, Reply>();
      for (let i = 0; i < n; i++) {
        const k = decode(b, pos);
        m.set(String(k), decode(b, pos));
      }
      if (type === '|') return decode(b, pos); // attributes annotate the reply that follows
      return m;
    }
    default:
      throw new ConnectionError(`protocol error: unexpected reply type byte ${JSON.stringify(type)}`);
  }
}

/** Decodes every complete reply in `buf`; returns them and how many bytes they used. */
export function decodeAll(buf: Buffer): { replies: Reply[]; used: number } {
  const replies: Reply[] = [];
  const pos = { p: 0 };
  for (;;) {
    const start = pos.p;
    try {
      replies.push(decode(buf, pos));
    } catch (e) {
      if (e !== INCOMPLETE) throw e;
      return { replies, used: start };
    }
  }
}

export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Connect and per-reply timeout. */
  timeoutMs: number;
}

export class RespConnection {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private failure: ConnectionError | null = null;

  private constructor(sock: net.Socket, timeoutMs: number) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(new ConnectionError(describeSocketError(e), { cause: e })),
    );
    sock.on('close', () => this.fail(new ConnectionError('connection closed by the server')));
    sock.setTimeout(timeoutMs, () => {
      if (this.pending.length > 0) {
        this.fail(new ConnectionError(`no reply within ${timeoutMs / 1000} s`));
        sock.destroy();
      }
    });
  }

  static connect(opts: ConnectOptions): Promise<RespConnection> {
    const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ConnectionError(`cannot connect to ${where}: timed out after ${opts.timeoutMs / 1000} s`));
      }, opts.timeoutMs);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ConnectionError(`cannot connect to ${where}: ${describeSocketError(e)}`));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new RespConnection(sock, opts.timeoutMs));
      });
    });
  }

  /** Sends one command; resolves with its reply (error replies included), rejects if the connection fails. */
  call(...args: string[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(encodeCommand(args));
    });
  }

  close(): void {
    this.failure ??= new ConnectionError('connection closed');
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let decoded;
    try {
      decoded = decodeAll(this.buf);
    } catch (e) {
      this.fail(e instanceof ConnectionError ? e : new ConnectionError(String(e)));
      this.sock.destroy();
      return;
    }
    this.buf = this.buf.subarray(decoded.used);
    for (const r of decoded.replies) {
      const p = this.pending.shift();
      // A reply nobody asked for: a server that refuses us answers before any command
      // (maxclients, protected mode). Keep it as the failure for the next call.
      if (p === undefined) {
        if (r instanceof ReplyError) this.failure ??= new ConnectionError(`server refused: ${r.message}`);
        continue;
      }
      p.resolve(r);
    }
  }

  private fail(e: ConnectionError): void {
    this.failure ??= e;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }
}

function describeSocketError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return e.code ?? e.message;
  }
}
