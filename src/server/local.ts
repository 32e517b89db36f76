import type { CommandSpec } from '../commands/types.ts';
import { FLAG_RESP3 } from '../router/frames.ts';
import type { RespWriter } from '../protocol/writer.ts';
import { localWriter } from './combine.ts';
import type { Connection } from './connection.ts';
import type { Server } from './server.ts';

export type LocalHandler = (c: LocalContext) => void;

/**
 * What a main-thread command handler sees: its arguments (after the command and subcommand
 * names), a writer for its reply, and ways to hand work to shards when the answer lives there
 * (SCAN, RANDOMKEY, SWAPDB) while keeping the reply in the client's order.
 */
export class LocalContext {
  readonly srv: Server;
  conn!: Connection;
  spec!: CommandSpec;
  seq = 0;
  /** The handler delivers its reply later (forward/gather). */
  deferred = false;
  /** A shard ring was full: nothing happened, the command is retried. */
  blocked = false;
  private base = 1;

  constructor(srv: Server) {
    this.srv = srv;
  }

  get out(): RespWriter {
    return localWriter;
  }

  begin(conn: Connection, spec: CommandSpec, base: number): void {
    this.conn = conn;
    this.spec = spec;
    this.base = base;
    this.seq = conn.takeSeq();
    this.deferred = false;
    this.blocked = false;
    localWriter.reset();
    localWriter.resp3 = conn.resp3;
  }

  /** Number of arguments after the command (and subcommand) name. */
  get argc(): number {
    return this.conn.parser.argc - this.base;
  }

  /** Argument i as a Buffer view, valid during the handler only. */
  arg(i: number): Buffer {
    const p = this.conn.parser;
    return p.buf.subarray(p.starts[this.base + i]!, p.ends[this.base + i]!);
  }

  /** Argument i copied (safe to keep). */
  argCopy(i: number): Buffer {
    return Buffer.from(this.arg(i));
  }

  str(i: number): string {
    const p = this.conn.parser;
    return p.buf.toString('utf8', p.starts[this.base + i]!, p.ends[this.base + i]!);
  }

  is(i: number, upperWord: string): boolean {
    return i < this.argc && this.str(i).toUpperCase() === upperWord;
  }

  /**
   * Send a request to one shard; its reply (optionally transformed) becomes this command's
   * reply. `cmd` is a command table index (a shard handler).
   */
  forward(shard: number, cmd: number, args: Buffer[], transform?: (reply: Buffer) => Buffer): void {
    this.gather([{ shard, cmd, args }], transform ? (parts) => transform(parts[shard]!) : null);
  }

  /**
   * Send requests to several shards (at most one per shard) in one atomic enqueue; `finish`
   * builds the reply from the parts (indexed by shard). Without `finish` a single part is
   * passed through as is.
   */
  gather(
    reqs: { shard: number; cmd: number; args: Buffer[]; db?: number }[],
    finish: ((parts: (Buffer | null)[]) => Buffer) | null,
  ): void {
    const shards = this.srv.shards;
    for (const r of reqs) {
      let size = 16;
      for (const a of r.args) size += 4 + ((a.length + 3) & ~3);
      if (!shards.canFit(r.shard, size)) {
        this.blocked = true;
        return;
      }
    }
    const flags = this.conn.resp3 ? FLAG_RESP3 : 0;
    for (const r of reqs)
      shards.sendBuffers(r.shard, this.conn.id, this.seq, r.cmd, r.db ?? this.conn.db, flags, r.args);
    this.deferred = true;
    if (finish !== null || reqs.length > 1) {
      const parts: (Buffer | null)[] = new Array(shards.count).fill(null);
      this.conn.combiners.set(this.seq, {
        parts,
        remaining: reqs.length,
        finish: finish ?? ((p) => p.find((x) => x !== null)!),
      });
    }
  }
}
