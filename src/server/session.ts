import { OP_HOLD, type HoldOp } from '../router/control.ts';
import { FLAG_HOLD } from '../router/frames.ts';
import { SessionFrames } from '../router/shards.ts';
import { COORDINATOR_CONN } from './coordinator.ts';
import type { Server } from './server.ts';

/**
 * A session parks a set of shards at one point of the global order (OP_HOLD frames enqueued to
 * all of them in one go: DESIGN principle 1, so sessions never deadlock) and then drives them
 * directly over their hold ports: ordinary dispatch code runs with ShardSet.redirect pointing
 * at the session (frames are collected and posted, replies flow back through the reply rings as
 * usual), main-side work reads dumps and posts writes, and end() lets the shards go. Used by
 * MULTI/EXEC and the cross-shard executor.
 */
export class Session {
  readonly shards: number[];
  private readonly srv: Server;
  private readonly frames = new Map<number, SessionFrames>();
  private ended = false;
  /** Work a command started inside the session that later commands must wait for (cross-shard executor). */
  pending: Promise<void> | null = null;

  private constructor(srv: Server, shards: number[]) {
    this.srv = srv;
    this.shards = shards;
    for (const s of shards) this.frames.set(s, new SessionFrames());
  }

  /**
   * Hold `shards` (sorted, unique). `watchConn` > 0 asks each shard whether that connection's
   * WATCHed keys changed. Returns null when a ring is full (nothing was sent: retry later).
   */
  static open(
    srv: Server,
    shards: number[],
    watchConn: number,
    onHeld: (s: Session, dirty: boolean) => void,
  ): Session | null {
    const s = new Session(srv, shards);
    const conn = Buffer.from(String(watchConn));
    const ok = srv.coordinator.start(
      shards.map((shard) => ({ shard, db: 0, args: [conn] })),
      FLAG_HOLD,
      OP_HOLD,
      (parts) =>
        onHeld(
          s,
          parts.some((p) => p !== null && p[1] === 49),
        ),
    );
    if (!ok) return null;
    srv.sessions++;
    return s;
  }

  /** Run `fn` with every send() to a held shard collected into this session, then post them. */
  redirect(fn: () => void): void {
    const set = this.srv.shards.redirect;
    for (const [s, f] of this.frames) set[s] = f;
    try {
      fn();
    } finally {
      for (const s of this.frames.keys()) set[s] = null;
      this.flush();
    }
  }

  /** Post collected frames to their shards. */
  flush(): void {
    for (const [s, f] of this.frames) if (f.count > 0) this.srv.shards.post(s, f.take());
  }

  /** One request (connection 0) to a held shard; resolves with its reply. */
  request(shard: number, cmd: number, db: number, args: Buffer[]): Promise<Buffer> {
    return new Promise((resolve) => {
      this.redirect(() => {
        this.srv.coordinator.start([{ shard, db, args }], 0, cmd, (parts) => resolve(parts[shard]!));
      });
    });
  }

  /** Apply writes in held shards now (the session goes on). */
  write(ops: Map<number, HoldOp[]>): void {
    for (const [s, list] of ops) if (list.length > 0) this.srv.shards.post(s, { t: 'ops', ops: list });
  }

  /** Let the shards go (after applying any last writes). */
  end(ops?: Map<number, HoldOp[]>): void {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    for (const s of this.shards) this.srv.shards.post(s, { t: 'end', ops: ops?.get(s) ?? [] });
    this.srv.sessions--;
  }
}

export { COORDINATOR_CONN };
