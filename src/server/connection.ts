import type { Socket } from 'node:net';
import { RequestParser, type ParserLimits } from '../protocol/parser.ts';
import { errorStats } from '../observability/error-stats.ts';
import type { Subscriptions } from './pubsub.ts';
import type { MultiState } from './transaction.ts';

/**
 * A reply assembled from several shards' parts (MGET across shards, DEL k1 k2, KEYS, SCAN…).
 * `finish` turns the parts (indexed by shard) into the client's reply bytes.
 */
export interface Combiner {
  parts: (Buffer | null)[];
  remaining: number;
  /** null: the reply is not delivered now (a blocked client keeps waiting; see blocking.ts). */
  finish: (parts: (Buffer | null)[]) => Buffer | null;
}

const BIG_REPLY = 256 * 1024;
/**
 * Outputs at least this big are written without a copy (see flush). Below it the pooled copy
 * wins: with 4 KiB the write callback cost ~8 % at pipeline 16 with 1 KiB values.
 */
const SWAP_OUTPUT = 16 * 1024;
/** A spare output buffer bigger than this is dropped rather than kept for reuse. */
const MAX_SPARE = 1024 * 1024;

/**
 * One client connection: protocol state (db, RESP version, auth, name) plus the ordering of
 * its replies. Every command takes the next sequence number; a reply whose turn has come is
 * copied straight into the output buffer, an early one (a later command answered first by a
 * faster shard, or a local command behind a pending shard reply) waits in `held`.
 */
export class Connection {
  readonly id: number;
  readonly socket: Socket;
  readonly parser: RequestParser;
  readonly createdAt = Date.now();
  readonly addr: string;
  readonly laddr: string;
  lastInteraction = Date.now();
  db = 0;
  resp3 = false;
  authenticated: boolean;
  name = '';
  lastCommand = 'NULL';
  libName = '';
  libVer = '';
  /** Paused because a shard ring is full; resumed after replies drain. */
  blockedOnRing = false;
  /** Paused because the socket's write side needs to drain. */
  blockedOnWrite = false;
  /** Held back by CLIENT PAUSE; resumed when the pause ends. */
  blockedOnPause = false;
  closing = false;
  closed = false;
  /** Pub/Sub subscriptions (server/pubsub.ts); null until the first (P|S)SUBSCRIBE. */
  subs: Subscriptions | null = null;
  /** Redis CLIENT_PUBSUB: RESP2 clients may then only (un)subscribe, PING, QUIT, RESET. */
  subscribed = false;
  /** Unix seconds since which the output exceeds its soft limit (0: it does not; obuf-limits.ts). */
  softLimitSince = 0;
  /**
   * While a main-thread command of this connection runs: its sequence number. Pushes it causes
   * (a RESP3 client receiving its own PUBLISH) go before its reply, as in Redis.
   */
  pushBefore = -1;
  /** Pushes waiting for earlier replies: seq → bytes to write right after that reply. */
  private trailing: Map<number, Buffer[]> | null = null;
  private trailingBytes = 0;
  /** Waiting for an asynchronous command (EXEC, a blocked BLPOP…): later input waits too. */
  parked = false;
  /** MULTI state; null outside a transaction. */
  multi: MultiState | null = null;
  /** Shards holding this connection's WATCHes. */
  readonly watchShards = new Set<number>();
  /** Dispatching EXEC's queued commands (they run without blocking or CLIENT PAUSE). */
  inExec = false;
  private nextSeq = 0;
  private nextWrite = 0;
  private readonly held = new Map<number, Buffer>();
  readonly combiners = new Map<number, Combiner>();
  /** Output accumulated during this turn; written with one socket.write in flush(). */
  private ob: Buffer;
  private obLen = 0;
  /** The other output buffer, free again once its write completed (see flush). */
  private spare: Buffer | null = null;
  /** Large replies queued as their own chunks (not copied through `ob`). */
  private big: Buffer[] | null = null;
  /** Set when output is queued and the connection is in the server's flush list. */
  inFlushList = false;

  constructor(id: number, socket: Socket, limits: ParserLimits, authenticated: boolean) {
    this.id = id;
    this.socket = socket;
    this.parser = new RequestParser(limits);
    this.parser.authenticated = authenticated;
    this.authenticated = authenticated;
    this.ob = Buffer.allocUnsafeSlow(16 * 1024);
    this.addr = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.laddr = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
  }

  takeSeq(): number {
    return this.nextSeq++;
  }

  /** The sequence number the next command will take. */
  peekSeq(): number {
    return this.nextSeq;
  }

  /** Rewind to `seq` (a parked connection re-running the command that owns it: blocking.ts). */
  rewindSeq(seq: number): void {
    this.nextSeq = seq;
  }

  /** Give back the sequence number of a command that could not be enqueued (it is retried). */
  untakeSeq(): void {
    this.nextSeq--;
  }

  /** Replies still owed to this client. */
  get outstanding(): number {
    return this.nextSeq - this.nextWrite;
  }

  /** Deliver the reply for `seq` (bytes are copied; the source may be reused after the call). */
  reply(seq: number, src: Buffer, off: number, len: number): void {
    if (src[off] === 45) errorStats.count(src, off, len);
    if (seq === this.nextWrite) {
      this.append(src, off, len);
      this.nextWrite++;
      if (this.trailing !== null) this.releaseTrailing(seq);
      if (this.held.size > 0) this.releaseHeld();
    } else {
      this.held.set(seq, Buffer.from(src.subarray(off, off + len)));
    }
  }

  /**
   * Out-of-band bytes (Pub/Sub messages, MONITOR lines): written after the replies of the
   * commands already received, so a SUBSCRIBE's confirmation always precedes its messages.
   * `bytes` is kept (not copied) while it waits: the caller must not reuse it.
   */
  push(bytes: Buffer): void {
    const before = this.pushBefore >= 0 ? this.pushBefore : this.nextSeq;
    if (before <= this.nextWrite) this.append(bytes, 0, bytes.length);
    else {
      const map = (this.trailing ??= new Map());
      const list = map.get(before - 1);
      if (list === undefined) map.set(before - 1, [bytes]);
      else list.push(bytes);
      this.trailingBytes += bytes.length;
    }
    this.onPush();
  }

  private releaseTrailing(seq: number): void {
    const list = this.trailing!.get(seq);
    if (list === undefined) return;
    this.trailing!.delete(seq);
    if (this.trailing!.size === 0) this.trailing = null;
    for (const b of list) {
      this.append(b, 0, b.length);
      this.trailingBytes -= b.length;
    }
  }

  /**
   * Output not yet taken by the kernel: the coalescing buffer, big chunks, waiting pushes and
   * the socket's queue (what client-output-buffer-limit judges; replies still held for
   * ordering are not counted).
   */
  outputBytes(): number {
    let n = this.obLen + this.trailingBytes + this.socket.writableLength;
    if (this.big !== null) for (const b of this.big) n += b.length;
    return n;
  }

  /** Set by the server: schedule a flush after push(). */
  onPush: () => void = () => {};

  /** Deliver one shard's part of a combined reply. */
  part(seq: number, shard: number, src: Buffer, off: number, len: number): boolean {
    const c = this.combiners.get(seq);
    if (c === undefined) return false;
    c.parts[shard] = Buffer.from(src.subarray(off, off + len));
    if (--c.remaining === 0) {
      this.combiners.delete(seq);
      const out = c.finish(c.parts);
      if (out !== null) this.reply(seq, out, 0, out.length);
    }
    return true;
  }

  get pendingOutput(): number {
    return this.obLen;
  }

  /** Write everything accumulated with one socket write. Returns false if the socket is backed up. */
  flush(): boolean {
    if (this.closed) return true;
    if (this.big !== null) {
      this.sealOb();
      const list = this.big;
      this.big = null;
      this.socket.cork();
      let ok = true;
      for (const b of list) ok = this.socket.write(b);
      this.socket.uncork();
      return ok;
    }
    if (this.obLen === 0) return true;
    if (this.obLen < SWAP_OUTPUT) {
      // Small output: a copy from Node's Buffer pool is cheaper than tracking a write.
      const chunk = Buffer.allocUnsafe(this.obLen);
      this.ob.copy(chunk, 0, 0, this.obLen);
      this.obLen = 0;
      return this.socket.write(chunk);
    }
    // Large output: hand the buffer itself to the socket and continue in the spare one; it
    // comes back when the write completes. A fresh Buffer per large flush was external memory
    // churn that drove the main thread's GC to ~40 % of its time with 16 KiB values
    // (redis-benchmark GET 16 KiB -c 50: 28k → 48k ops/s).
    const full = this.ob;
    const out = full.subarray(0, this.obLen);
    this.ob =
      this.spare !== null && this.spare.length >= SWAP_OUTPUT
        ? this.spare
        : Buffer.allocUnsafeSlow(full.length);
    this.spare = null;
    this.obLen = 0;
    return this.socket.write(out, () => {
      if (this.spare === null && full.length <= MAX_SPARE) this.spare = full;
    });
  }

  /** Move what `ob` holds into the chunk list (keeps order with big chunks). */
  private sealOb(): void {
    if (this.obLen === 0) return;
    const chunk = Buffer.allocUnsafe(this.obLen);
    this.ob.copy(chunk, 0, 0, this.obLen);
    this.obLen = 0;
    (this.big ??= []).push(chunk);
  }

  private releaseHeld(): void {
    let b: Buffer | undefined;
    while ((b = this.held.get(this.nextWrite)) !== undefined) {
      this.held.delete(this.nextWrite);
      this.append(b, 0, b.length);
      this.nextWrite++;
      if (this.trailing !== null) this.releaseTrailing(this.nextWrite - 1);
    }
  }

  private append(src: Buffer, off: number, len: number): void {
    if (len >= BIG_REPLY) {
      // Big values skip the coalescing buffer so they are copied once, not twice.
      this.sealOb();
      (this.big ??= []).push(Buffer.from(src.subarray(off, off + len)));
      return;
    }
    if (this.obLen + len > this.ob.length) {
      let n = this.ob.length * 2;
      while (n < this.obLen + len) n *= 2;
      const nb = Buffer.allocUnsafeSlow(n);
      this.ob.copy(nb, 0, 0, this.obLen);
      this.ob = nb;
    }
    src.copy(this.ob, this.obLen, off, off + len);
    this.obLen += len;
  }

  /** Output buffer bytes held (for CLIENT LIST omem); shrinks back after a big burst. */
  shrink(): void {
    if (this.obLen === 0 && this.ob.length > MAX_SPARE) this.ob = Buffer.allocUnsafeSlow(16 * 1024);
    if (this.spare !== null && this.spare.length > MAX_SPARE) this.spare = null;
  }
}
