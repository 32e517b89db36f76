/**
 * One pipelined client connection of a load-generator thread. Requests are encoded straight
 * into a reusable output buffer (double-buffered: one being written by the socket, one being
 * filled); replies are read into a static buffer (net `onread`, no Buffer per read), copied
 * into a reusable input buffer and scanned in place. In-flight requests live in a ring of typed
 * arrays (command, keys, intended and actual send time) — nothing is allocated per request.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { scanReply } from '../resp/reply.ts';
import type { Generator } from './generator.ts';

export class LoadConnection {
  private readonly gen: Generator;
  readonly window: number;
  private sock: net.Socket | null = null;

  // Output: `out` is filled while `spare` may still belong to an unfinished socket write.
  out: Buffer;
  private spare: Buffer;
  outLen = 0;
  private writing = false;
  private readonly onWritten: (err?: Error | null) => void;

  private inBuf: Buffer;
  private inStart = 0;
  private inEnd = 0;

  // In-flight ring: slot = (head + i) % window for the i-th oldest request.
  head = 0;
  count = 0;
  readonly kinds: Uint8Array;
  readonly keys: Int32Array;
  readonly intended: Float64Array;
  readonly sent: Float64Array;

  // Open loop: request n of this connection is due at dueBase + n * interval.
  issued = 0;
  dueBase = 0;
  interval = 0;

  constructor(gen: Generator, window: number, maxKeys: number, cmdBytes: number, replyBytes: number) {
    this.gen = gen;
    this.window = window;
    this.out = Buffer.allocUnsafe(window * cmdBytes);
    this.spare = Buffer.allocUnsafe(window * cmdBytes);
    this.inBuf = Buffer.allocUnsafe(Math.max(65536, window * replyBytes + 4096));
    this.kinds = new Uint8Array(window);
    this.keys = new Int32Array(window * maxKeys);
    this.intended = new Float64Array(window);
    this.sent = new Float64Array(window);
    this.onWritten = (err) => {
      this.writing = false;
      if (err) return; // the socket's 'error' event reports it
      if (this.outLen > 0) this.flush();
    };
  }

  connect(host: string, port: number, readBuf: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: readBuf,
          callback: (n: number) => {
            this.onRead(readBuf, n);
            return true;
          },
        },
      });
      this.sock = sock;
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.gen.fail(e));
        sock.on('close', () => this.gen.closed(this));
        resolve();
      });
      sock.once('error', reject);
    });
  }

  /** True when the slot ring has room for another request. */
  get free(): boolean {
    return this.count < this.window;
  }

  /** Slot for the next request (caller fills it and calls pushed()). */
  nextSlot(): number {
    const s = this.head + this.count;
    return s >= this.window ? s - this.window : s;
  }

  pushed(): void {
    this.count++;
  }

  flush(): void {
    if (this.outLen === 0 || this.writing || this.sock === null) return;
    const b = this.out;
    const n = this.outLen;
    this.out = this.spare;
    this.spare = b;
    this.outLen = 0;
    this.writing = true;
    // One view object per write (not per request): a write must own its bytes until done.
    this.sock.write(b.subarray(0, n), this.onWritten);
  }

  close(): void {
    this.sock?.destroy();
  }

  private onRead(readBuf: Buffer, n: number): void {
    const now = performance.now();
    if (this.inEnd + n > this.inBuf.length) this.makeRoom(n);
    readBuf.copy(this.inBuf, this.inEnd, 0, n);
    this.inEnd += n;
    let pos = this.inStart;
    let replies = 0;
    try {
      while (pos < this.inEnd) {
        const e = scanReply(this.inBuf, pos, this.inEnd);
        if (e < 0) break;
        if (this.count === 0) throw new Error('reply without a request (server out of sync)');
        this.gen.reply(this, this.head, this.inBuf, pos, e, now);
        this.head = this.head + 1 === this.window ? 0 : this.head + 1;
        this.count--;
        replies++;
        pos = e;
      }
    } catch (err) {
      this.gen.fail(err as Error);
      return;
    }
    if (pos === this.inEnd) this.inStart = this.inEnd = 0;
    else this.inStart = pos;
    this.gen.afterReplies(this, replies, now);
  }

  /** Compact the input buffer, growing it (rare: a reply larger than expected) if needed. */
  private makeRoom(n: number): void {
    const pending = this.inEnd - this.inStart;
    if (pending + n > this.inBuf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.inBuf.length * 2, pending + n + 4096));
      this.inBuf.copy(bigger, 0, this.inStart, this.inEnd);
      this.inBuf = bigger;
    } else this.inBuf.copyWithin(0, this.inStart, this.inEnd);
    this.inStart = 0;
    this.inEnd = pending;
  }
}
