/**
 * A small request/response RESP client for the harness's control traffic (PING, INFO,
 * FLUSHALL, CONFIG GET, probing whether a command exists). Not on the measured path, so it
 * favours simplicity: one command at a time, replies returned as raw bytes.
 */
import net from 'node:net';
import { lineEnd, lineText, scanReply } from './reply.ts';

export class ControlClient {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private error: Error | null = null;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.abort(e));
    sock.on('close', () => this.abort(new Error('connection closed')));
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.off('error', reject);
        resolve(new ControlClient(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** Send raw, already-encoded command bytes; resolves with the complete raw reply. */
  send(bytes: Buffer): Promise<Buffer> {
    if (this.error) return Promise.reject(this.error);
    if (this.waiting) return Promise.reject(new Error('ControlClient: one command at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.sock.write(bytes);
    });
  }

  call(...args: string[]): Promise<Buffer> {
    return this.send(encodeCommand(args));
  }

  /** A command whose reply is a bulk or simple string; errors become exceptions. */
  async text(...args: string[]): Promise<string> {
    const r = await this.call(...args);
    if (r[0] === 45) throw new Error(lineText(r, 0, r.length));
    if (r[0] === 36) {
      const eol = lineEnd(r, 1, r.length);
      return r.toString('utf8', eol + 2, r.length - 2);
    }
    return lineText(r, 0, r.length);
  }

  close(): void {
    this.sock.destroy();
  }

  private abort(e: Error): void {
    this.error ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = scanReply(this.buf, 0, this.buf.length);
    if (end < 0 || !this.waiting) return;
    const reply = this.buf.subarray(0, end);
    this.buf = this.buf.subarray(end);
    const w = this.waiting;
    this.waiting = null;
    w.resolve(reply);
  }
}

export function encodeCommand(args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}

/** Parse INFO text into a map of field → value. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
