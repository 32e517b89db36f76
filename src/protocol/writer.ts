/**
 * Reply encoder writing straight into one reusable, growable Buffer. Used on the main thread and
 * in shard workers; `resp3` picks RESP3 types or their RESP2 stand-ins, as Redis's addReply* do.
 */
import { formatDouble17g, intAsciiLength, writeIntAscii } from './numbers.ts';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

export const OK = enc('+OK\r\n');
export const PONG = enc('+PONG\r\n');
export const QUEUED = enc('+QUEUED\r\n');
export const CRLF = enc('\r\n');
export const ZERO = enc(':0\r\n');
export const ONE = enc(':1\r\n');
export const EMPTY_ARRAY = enc('*0\r\n');
export const EMPTY_BULK = enc('$0\r\n\r\n');
export const NULL_BULK_RESP2 = enc('$-1\r\n');
export const NULL_ARRAY_RESP2 = enc('*-1\r\n');
export const NULL_RESP3 = enc('_\r\n');

const SHRINK_ABOVE = 4 * 1024 * 1024;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// Below this, a JS byte loop beats creating a subarray for a native copy.
const LOOP_COPY_MAX = 32;

export class RespWriter {
  buf: Buffer;
  pos = 0;
  resp3 = false;
  private readonly initialSize: number;

  constructor(initialSize = 64 * 1024) {
    this.initialSize = Math.max(64, initialSize | 0);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  reset(): void {
    this.pos = 0;
    if (this.buf.length > SHRINK_ABOVE && this.buf.length > this.initialSize) {
      this.buf = Buffer.allocUnsafe(this.initialSize);
    }
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private grow(min: number): void {
    let cap = this.buf.length * 2;
    while (cap < min) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  ok(): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 43;
    b[p++] = 79;
    b[p++] = 75;
    b[p++] = 13;
    b[p++] = 10;
    this.pos = p;
  }

  simple(s: string): void {
    this.line(43, s);
  }

  error(s: string): void {
    this.line(45, s);
  }

  integer(n: number): void {
    if (Number.isSafeInteger(n)) this.header(58, n);
    else this.bigint(BigInt(n));
  }

  bigint(n: bigint): void {
    if (n <= MAX_SAFE && n >= -MAX_SAFE) {
      this.header(58, Number(n));
      return;
    }
    const s = n.toString();
    this.ensure(s.length + 3);
    this.buf[this.pos++] = 58;
    this.ascii(s);
    this.crlf();
  }

  bulk(src: Uint8Array, off: number, len: number): void {
    this.header(36, len);
    this.ensure(len + 2);
    this.copyIn(src, off, len);
    this.crlf();
  }

  bulkString(s: string): void {
    const n = s.length;
    if (n < 64) {
      // Optimistically ASCII: the byte length is then known without measuring.
      const start = this.pos;
      this.header(36, n);
      this.ensure(n + 2);
      const b = this.buf;
      let p = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        b[p++] = c;
      }
      if (i === n) {
        this.pos = p;
        this.crlf();
        return;
      }
      this.pos = start;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.header(36, len);
    this.ensure(len + 2);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    this.crlf();
  }

  nullBulk(): void {
    if (this.resp3) this.raw(NULL_RESP3, 0, 3);
    else this.raw(NULL_BULK_RESP2, 0, 5);
  }

  nullArray(): void {
    if (this.resp3) this.raw(NULL_RESP3, 0, 3);
    else this.raw(NULL_ARRAY_RESP2, 0, 5);
  }

  arrayHeader(n: number): void {
    this.header(42, n);
  }

  mapHeader(n: number): void {
    if (this.resp3) this.header(37, n);
    else this.header(42, n * 2);
  }

  setHeader(n: number): void {
    this.header(this.resp3 ? 126 : 42, n);
  }

  pushHeader(n: number): void {
    this.header(this.resp3 ? 62 : 42, n);
  }

  double(d: number): void {
    // Integral doubles are most scores: write their digits without building a string.
    // Below 1e17 "%.17g" prints integers without an exponent, so the digits are identical.
    if (Number.isSafeInteger(d) && Math.abs(d) < 1e17 && (d !== 0 || 1 / d > 0)) {
      if (this.resp3) this.header(44, d);
      else {
        this.header(36, intAsciiLength(d));
        this.ensure(19);
        this.pos = writeIntAscii(this.buf, this.pos, d);
        this.crlf();
      }
      return;
    }
    const s = formatDouble17g(d);
    if (this.resp3) {
      this.ensure(s.length + 3);
      this.buf[this.pos++] = 44;
    } else {
      this.header(36, s.length);
      this.ensure(s.length + 2);
    }
    this.ascii(s);
    this.crlf();
  }

  bool(b: boolean): void {
    this.ensure(4);
    const buf = this.buf;
    let p = this.pos;
    if (this.resp3) {
      buf[p++] = 35;
      buf[p++] = b ? 116 : 102;
    } else {
      buf[p++] = 58;
      buf[p++] = b ? 49 : 48;
    }
    buf[p++] = 13;
    buf[p++] = 10;
    this.pos = p;
  }

  /** `fmt` is the 3-letter RESP3 format tag ("txt", "mkd"). */
  verbatim(s: string, fmt = 'txt'): void {
    if (!this.resp3) {
      this.bulkString(s);
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.header(61, len + 4);
    this.ensure(len + 6);
    this.ascii(fmt.slice(0, 3).padEnd(3, ' '));
    this.buf[this.pos++] = 58;
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    this.crlf();
  }

  raw(src: Uint8Array, off: number, len: number): void {
    this.ensure(len);
    this.copyIn(src, off, len);
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.reset();
    return out;
  }

  /** <prefix><n>\r\n */
  private header(prefix: number, n: number): void {
    this.ensure(20);
    const b = this.buf;
    b[this.pos] = prefix;
    let p = writeIntAscii(b, this.pos + 1, n);
    b[p++] = 13;
    b[p++] = 10;
    this.pos = p;
  }

  /** A one-line reply; CR/LF become spaces, as Redis does, so the reply stays one line. */
  private line(prefix: number, s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 3);
    const b = this.buf;
    const start = this.pos + 1;
    b[this.pos] = prefix;
    let p = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) {
        p = start + b.write(s.replace(/[\r\n]/g, ' '), start, 'utf8');
        break;
      }
      b[p++] = c === 13 || c === 10 ? 32 : c;
    }
    b[p++] = 13;
    b[p++] = 10;
    this.pos = p;
  }

  /** Caller has ensured room for s.length bytes; s is ASCII. */
  private ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private crlf(): void {
    this.ensure(2);
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  private copyIn(src: Uint8Array, off: number, len: number): void {
    const b = this.buf;
    if (len <= LOOP_COPY_MAX) {
      let p = this.pos;
      for (let i = off; i < off + len; i++) b[p++] = src[i]!;
    } else {
      b.set(src.subarray(off, off + len), this.pos);
    }
    this.pos += len;
  }
}
