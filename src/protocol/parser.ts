/**
 * Incremental server-side RESP request parser, behaving like Redis 7 networking.c
 * (processMultibulkBuffer / processInlineBuffer): same limits, same error lines, same leniency
 * (like Redis, the byte after a header's CR and the two bytes after a bulk payload are skipped
 * without being checked).
 *
 * Memory model: feed() only queues chunks. next() merges queued chunks into one contiguous
 * buffer when it needs them. While a bulk payload is incomplete its exact byte count is known,
 * so chunks just pile up in the queue and are merged once when enough have arrived: a 100 MB
 * value costs one copy, not one per chunk. Otherwise merging appends into a reusable, doubling
 * buffer, so a huge many-argument command is also copied O(1) times per byte.
 */
import { scanInt64 } from './numbers.ts';

import { splitInlineArgs } from './inline.ts';

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** client-query-buffer-limit: bytes that may be buffered for one incomplete command */
  maxQueryBuffer: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = {
  maxBulkLen: 512 * 1024 * 1024,
  maxQueryBuffer: 1024 * 1024 * 1024,
};

const INLINE_MAX = 64 * 1024; // PROTO_INLINE_MAX_SIZE
// Redis <= 6.2's cap; 7.0 (redis#9528) raised it to INT_MAX. Arg arrays grow lazily either way.
const MAX_MULTIBULK = 1024 * 1024;
const UNAUTH_MAX_ARGS = 10;
const UNAUTH_MAX_BULK = 16384;
const MIN_ARGS = 64;
const MIN_OWN = 16 * 1024;
const KEEP_OWN_MAX = 1024 * 1024; // a bigger merge buffer is dropped once drained
const SMALL_CHUNK = 1024; // smaller chunks are coalesced so a 1-byte drip can't pile up objects
const STAGE_SIZE = 16 * 1024;
// Offsets live in Int32Arrays; leave headroom for the chunk that crosses the limit.
const HARD_BUFFER_MAX = 0x7fffffff - 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const CR = 13;
const LF = 10;

export class RequestParser {
  argc = 0;
  buf: Buffer = EMPTY;
  starts = new Int32Array(MIN_ARGS);
  ends = new Int32Array(MIN_ARGS);
  error = '';
  /** Defaults to false (the strict limits) so an owner that forgets to set it fails safe. */
  authenticated = false;
  isInline = false;

  private maxBulkLen: number;
  private maxQueryBuffer: number;
  /** Merged input; [cmdStart, data.length) is still needed. A view of `own` when dataInOwn. */
  private data: Buffer = EMPTY;
  private own: Buffer | null = null;
  private dataInOwn = false;
  private pos = 0;
  private cmdStart = 0;
  private lastCmdStart = -1;
  /** Arguments still to read in the multibulk in progress; 0 between commands. */
  private mbLeft = 0;
  private argi = 0;
  private bulkLen = -1;
  /** Bytes from pos known to hold no line terminator, so a slow line is scanned once. */
  private lineScanned = 0;
  /** Bytes from cmdStart needed before parsing can progress; 0 = any new byte may help. */
  private need = 0;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private stage: Buffer | null = null;
  private stageLen = 0;
  private failed = false;

  /** Apply new limits (CONFIG SET); they take effect from the next command parsed. */
  setLimits(limits: ParserLimits): void {
    this.maxBulkLen = limits.maxBulkLen;
    this.maxQueryBuffer = Math.min(limits.maxQueryBuffer, HARD_BUFFER_MAX);
  }

  constructor(limits: ParserLimits) {
    this.maxBulkLen = limits.maxBulkLen;
    this.maxQueryBuffer = Math.min(limits.maxQueryBuffer, HARD_BUFFER_MAX);
  }

  feed(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0 || this.failed) return;
    this.pendingLen += n;
    // Only chunks arriving while others still wait (a bulk payload being collected) are
    // coalesced; the usual one-chunk-per-next() case stays zero-copy.
    if (n >= SMALL_CHUNK || (this.pending.length === 0 && this.stageLen === 0)) {
      this.sealStage();
      this.pending.push(chunk);
      return;
    }
    let st = this.stage;
    if (st === null || this.stageLen + n > st.length) {
      this.sealStage();
      st = this.stage ??= Buffer.allocUnsafe(STAGE_SIZE);
    }
    chunk.copy(st, this.stageLen);
    this.stageLen += n;
  }

  /**
   * The caller is about to reuse the memory of the chunks it fed (one shared read buffer for
   * every socket): copy the bytes still needed — an incomplete or rewound command, and chunks
   * not parsed yet — into memory the parser owns. Parsing itself stays zero-copy.
   */
  detach(): void {
    // The bytes before cmdStart are not kept, so a later rewind() could not return to them;
    // callers rewind first (backpressure), then detach.
    this.lastCmdStart = -1;
    for (let i = 0; i < this.pending.length; i++) this.pending[i] = Buffer.from(this.pending[i]!);
    if (this.dataInOwn) return;
    const tail = this.data.length - this.cmdStart;
    if (tail === 0) {
      this.release();
      return;
    }
    let own = this.own;
    if (own === null || own.length < tail || own.length > KEEP_OWN_MAX) {
      own = this.own = Buffer.allocUnsafe(Math.max(tail, MIN_OWN));
    }
    this.data.copy(own, 0, this.cmdStart);
    this.shift(this.cmdStart);
    this.data = own.subarray(0, tail);
    this.dataInOwn = true;
    this.buf = EMPTY;
  }

  bufferedBytes(): number {
    return this.data.length - this.cmdStart + this.pendingLen;
  }

  /** Only valid right after next() returned 1 and before the following next(); feed() may come between. */
  rewind(): void {
    if (this.lastCmdStart < 0) return;
    this.pos = this.cmdStart = this.lastCmdStart;
    this.lastCmdStart = -1;
    this.mbLeft = 0;
    this.argi = 0;
    this.bulkLen = -1;
    this.lineScanned = 0;
    this.need = 0;
  }

  next(): number {
    if (this.failed) return -1;
    this.lastCmdStart = -1;
    this.buf = EMPTY;
    this.argc = 0;
    if (this.pendingLen > 0) {
      if (this.need > 0 && this.bufferedBytes() < this.need) return this.starved();
      this.absorb();
    }
    return this.parse();
  }

  private parse(): number {
    const data = this.data;
    const len = data.length;
    let pos = this.pos;
    this.need = 0;
    for (;;) {
      if (this.mbLeft === 0) {
        this.cmdStart = pos;
        if (pos >= len) {
          this.pos = pos;
          this.release();
          return 0;
        }
        if (data[pos] !== 42) {
          const r = this.parseInline(data, pos, len);
          if (r !== 2) return r;
          pos = this.pos;
          continue;
        }
        const cr = findCR(data, pos + this.lineScanned, len);
        if (cr < 0 || cr + 1 >= len) {
          if (cr < 0 && len - pos > INLINE_MAX) return this.fail('too big mbulk count string');
          return this.waitLine(pos, cr, len);
        }
        const n = scanInt64(data, pos + 1, cr - pos - 1);
        if (!(n <= MAX_MULTIBULK)) return this.fail('invalid multibulk length');
        if (n > UNAUTH_MAX_ARGS && !this.authenticated) return this.fail('unauthenticated multibulk length');
        pos = cr + 2;
        this.lineScanned = 0;
        if (n <= 0) continue;
        this.mbLeft = n;
        this.argi = 0;
        this.bulkLen = -1;
      }
      while (this.mbLeft > 0) {
        let bl = this.bulkLen;
        if (bl < 0) {
          const cr = findCR(data, pos + this.lineScanned, len);
          if (cr < 0 || cr + 1 >= len) {
            if (cr < 0 && len - pos > INLINE_MAX) return this.fail('too big bulk count string');
            return this.waitLine(pos, cr, len);
          }
          const c = data[pos]!;
          if (c !== 36) {
            const ch = c === CR || c === LF ? ' ' : String.fromCharCode(c);
            return this.fail(`expected '$', got '${ch}'`);
          }
          bl = scanInt64(data, pos + 1, cr - pos - 1);
          if (!(bl >= 0 && bl <= this.maxBulkLen)) return this.fail('invalid bulk length');
          if (bl > UNAUTH_MAX_BULK && !this.authenticated) return this.fail('unauthenticated bulk length');
          pos = cr + 2;
          this.lineScanned = 0;
          this.bulkLen = bl;
        }
        if (len - pos < bl + 2) {
          this.pos = pos;
          this.need = pos + bl + 2 - this.cmdStart;
          return this.starved();
        }
        const i = this.argi;
        if (i === this.starts.length) this.growArgs();
        this.starts[i] = pos;
        this.ends[i] = pos + bl;
        this.argi = i + 1;
        pos += bl + 2;
        this.bulkLen = -1;
        this.mbLeft--;
      }
      this.argc = this.argi;
      this.argi = 0;
      this.buf = data;
      this.isInline = false;
      this.lastCmdStart = this.cmdStart;
      this.cmdStart = this.pos = pos;
      return 1;
    }
  }

  /** 1 = command, 0 = need more, -1 = error, 2 = empty line skipped (pos advanced). */
  private parseInline(data: Buffer, pos: number, len: number): number {
    const lf = data.indexOf(LF, pos + this.lineScanned);
    if (lf < 0) {
      if (len - pos > INLINE_MAX) return this.fail('too big inline request');
      this.lineScanned = len - pos;
      this.pos = pos;
      return this.starved();
    }
    this.lineScanned = 0;
    let end = lf > pos && data[lf - 1] === CR ? lf - 1 : lf;
    // sdssplitargs sees a C string: a NUL ends the line.
    for (let i = pos; i < end; i++) {
      if (data[i] === 0) {
        end = i;
        break;
      }
    }
    if (!this.splitInline(data, pos, end)) return this.fail('unbalanced quotes in request');
    this.pos = lf + 1;
    if (this.argc === 0) return 2;
    this.isInline = true;
    this.lastCmdStart = this.cmdStart;
    this.cmdStart = lf + 1;
    return 1;
  }

  /** sdssplitargs (inline.ts) into a fresh small buffer; false on unbalanced quotes. */
  private splitInline(data: Buffer, p: number, end: number): boolean {
    const r = splitInlineArgs(data, p, end);
    if (r === null) return false;
    while (r.starts.length > this.starts.length) this.growArgs();
    for (let k = 0; k < r.starts.length; k++) {
      this.starts[k] = r.starts[k]!;
      this.ends[k] = r.ends[k]!;
    }
    this.argc = r.starts.length;
    this.buf = r.out;
    return true;
  }

  private waitLine(pos: number, cr: number, len: number): number {
    this.pos = pos;
    // Resume at a CR that is waiting for its LF, else after everything scanned.
    this.lineScanned = cr >= 0 ? cr - pos : len - pos;
    return this.starved();
  }

  private starved(): number {
    if (this.bufferedBytes() > this.maxQueryBuffer) return this.fail('client query buffer limit exceeded');
    return 0;
  }

  private fail(msg: string): number {
    this.error = 'ERR Protocol error: ' + msg;
    this.failed = true;
    this.pending = [];
    this.pendingLen = 0;
    this.stage = this.own = null;
    this.data = this.buf = EMPTY;
    this.dataInOwn = false;
    this.pos = this.cmdStart = 0;
    return -1;
  }

  /** Everything is consumed: drop references to input so old chunks can be collected. */
  private release(): void {
    this.data = this.buf = EMPTY;
    this.dataInOwn = false;
    this.pos = this.cmdStart = 0;
    this.lineScanned = 0;
    if (this.own !== null && this.own.length > KEEP_OWN_MAX) this.own = null;
    if (this.starts.length > 4096) {
      this.starts = new Int32Array(MIN_ARGS);
      this.ends = new Int32Array(MIN_ARGS);
    }
  }

  private sealStage(): void {
    const st = this.stage;
    if (st === null || this.stageLen === 0) return;
    if (this.stageLen < STAGE_SIZE / 4) {
      // Copy out a mostly empty stage so it can be reused instead of pinning 16 KiB.
      this.pending.push(Buffer.from(st.subarray(0, this.stageLen)));
    } else {
      this.pending.push(st.subarray(0, this.stageLen));
      this.stage = null;
    }
    this.stageLen = 0;
  }

  /** Moves queued chunks (and the stage) behind the live part of `data`. */
  private absorb(): void {
    const pend = this.pending;
    const plen = this.pendingLen;
    const staged = this.stageLen > 0;
    if (staged) pend.push(this.stage!.subarray(0, this.stageLen));
    this.stageLen = 0;
    this.pending = [];
    this.pendingLen = 0;
    const data = this.data;
    const cmdStart = this.cmdStart;
    const tail = data.length - cmdStart;
    if (tail === 0 && pend.length === 1) {
      // Nothing in progress: parse the chunk where it is.
      if (staged) this.stage = null;
      this.data = pend[0]!;
      this.dataInOwn = false;
      this.pos = this.cmdStart = 0;
      return;
    }
    let own = this.own;
    const total = tail + plen;
    if (tail === 0) {
      this.shift(cmdStart);
      if (own === null || own.length < total || own.length > KEEP_OWN_MAX) {
        own = this.own = Buffer.allocUnsafe(Math.max(total, MIN_OWN));
      }
    } else if (this.dataInOwn && own !== null && data.length + plen <= own.length) {
      // Appending in place: nothing moves.
    } else if (this.dataInOwn && own !== null && total <= own.length && cmdStart >= tail) {
      // Compacting costs `tail`, paid for by the `cmdStart` bytes consumed since the last move.
      own.copyWithin(0, cmdStart, data.length);
      this.shift(cmdStart);
    } else if (!this.dataInOwn && own !== null && total <= own.length) {
      data.copy(own, 0, cmdStart);
      this.shift(cmdStart);
    } else {
      // Doubling keeps a long many-argument command at O(1) copies per byte; a single big bulk
      // gets an exactly sized buffer since `total` dominates.
      const grown = 2 * (this.dataInOwn && own !== null ? own.length : tail);
      const next = Buffer.allocUnsafe(Math.max(total, MIN_OWN, grown));
      data.copy(next, 0, cmdStart);
      this.shift(cmdStart);
      own = this.own = next;
    }
    let at = this.cmdStart + tail;
    for (const c of pend) {
      c.copy(own, at);
      at += c.length;
    }
    this.data = own.subarray(0, at);
    this.dataInOwn = true;
  }

  /** The live region moved from `by` to 0: rebase every offset that points into it. */
  private shift(by: number): void {
    if (by === 0) return;
    this.pos -= by;
    this.cmdStart -= by;
    const s = this.starts;
    const e = this.ends;
    for (let i = 0; i < this.argi; i++) {
      s[i]! -= by;
      e[i]! -= by;
    }
  }

  private growArgs(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    const e = new Int32Array(n);
    s.set(this.starts);
    e.set(this.ends);
    this.starts = s;
    this.ends = e;
  }
}

/** Short header lines are the norm: a plain loop beats the native call for the first bytes. */
function findCR(data: Buffer, from: number, len: number): number {
  const lim = from + 16 < len ? from + 16 : len;
  for (let i = from; i < lim; i++) if (data[i] === CR) return i;
  return lim < len ? data.indexOf(CR, lim) : -1;
}
