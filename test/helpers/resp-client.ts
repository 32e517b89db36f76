/**
 * A minimal raw RESP2/RESP3 client for differential tests: sends commands as arrays of bulk
 * strings and returns each reply rendered as a canonical string (type marker + exact bytes),
 * so nothing is normalised away the way a full client library would.
 */
import net from 'node:net';

export type Arg = string | Buffer | number;

export class RawClient {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: ((reply: string) => void)[] = [];
  private failed: Error | null = null;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => (this.failed = e));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Send all commands at once (pipelined) and resolve with their rendered replies. */
  pipeline(cmds: Arg[][]): Promise<string[]> {
    if (this.failed) return Promise.reject(this.failed);
    const parts: Buffer[] = [];
    for (const cmd of cmds) parts.push(encode(cmd));
    const replies = cmds.map(() => new Promise<string>((r) => this.waiting.push(r)));
    this.sock.write(Buffer.concat(parts));
    return Promise.all(replies);
  }

  async call(...cmd: Arg[]): Promise<string> {
    return (await this.pipeline([cmd]))[0]!;
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let off = 0;
    while (off < this.buf.length) {
      const r = parse(this.buf, off);
      if (r === null) break;
      off = r[1];
      const w = this.waiting.shift();
      if (w) w(r[0]);
    }
    this.buf = this.buf.subarray(off);
  }
}

export function encode(cmd: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${cmd.length}\r\n`)];
  for (const a of cmd) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Bytes shown as a JSON string of their latin1 reading: binary-exact and readable. */
function show(b: Buffer): string {
  return JSON.stringify(b.toString('latin1'));
}

/** Parses one reply at `off`: [rendered, next offset], or null when incomplete. */
export function parse(b: Buffer, off: number): [string, number] | null {
  const eol = b.indexOf('\r\n', off);
  if (eol < 0) return null;
  const type = String.fromCharCode(b[off]!);
  const line = b.toString('latin1', off + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '#':
    case '(':
      return [type + line, next];
    case '_':
      return ['_', next];
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return [type + '-1', next];
      if (b.length < next + n + 2) return null;
      return [type + show(b.subarray(next, next + n)), next + n + 2];
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      const n = Number(line);
      if (n < 0) return [type + '-1', next];
      const count = type === '%' ? n * 2 : n;
      const items: string[] = [];
      let p = next;
      for (let i = 0; i < count; i++) {
        const r = parse(b, p);
        if (r === null) return null;
        items.push(r[0]);
        p = r[1];
      }
      if (type === '%') {
        const pairs: string[] = [];
        for (let i = 0; i < items.length; i += 2) pairs.push(`${items[i]}: ${items[i + 1]}`);
        return [`%{${pairs.join(', ')}}`, p];
      }
      return [`${type}[${items.join(', ')}]`, p];
    }
    default:
      throw new Error(`unexpected RESP type byte ${b[off]} at ${off}`);
  }
}
