import { OP_DUMP, OP_HOLD, type HoldOp, type WalGroupMark } from '../router/control.ts';

/** Group ids a session reserves when it opens (more are allocated if it needs them). */
const RESERVED_GROUPS = 4;
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
    if (shards.length > 1 && srv.config.get('appendonly')) {
      for (let i = 0; i < RESERVED_GROUPS; i++) s.reserved.push(srv.persistence.nextGroup());
    }
    srv.sessions++;
    return s;
  }

  /**
   * Run `fn` with every send() to a held shard collected into this session; post them unless
   * `post` is false (EXEC collects a whole transaction, then posts it as one WAL group).
   */
  redirect(fn: () => void, post = true): void {
    const set = this.srv.shards.redirect;
    for (const [s, f] of this.frames) set[s] = f;
    try {
      fn();
    } finally {
      for (const s of this.frames.keys()) set[s] = null;
      if (post) this.flush();
    }
  }

  /** Post collected frames to their shards; frames for several shards form one WAL group. */
  flush(): void {
    const to = [...this.frames].filter(([, f]) => f.count > 0);
    const group = this.group(to.map(([s]) => s));
    for (const [s, f] of to) {
      const msg = f.take();
      if (group !== undefined && msg.t === 'frames') msg.group = group;
      this.srv.shards.post(s, msg);
    }
  }

  /**
   * Group ids are reserved when the session opens, so they follow ring order like those of
   * split commands (persistence/group-frames.ts): a shard sees its groups in increasing order.
   */
  private readonly reserved: number[] = [];
  private group(shards: number[]): WalGroupMark | undefined {
    if (shards.length < 2 || !this.srv.config.get('appendonly')) return undefined;
    const gid = this.reserved.shift() ?? this.srv.persistence.nextGroup();
    return { gid, participants: shards.sort((a, b) => a - b) };
  }

  /** One request (connection 0) to a held shard; resolves with its reply. */
  request(shard: number, cmd: number, db: number, args: Buffer[]): Promise<Buffer> {
    return new Promise((resolve) => {
      this.redirect(() => {
        this.srv.coordinator.start([{ shard, db, args }], 0, cmd, (parts) => resolve(parts[shard]!));
      });
    });
  }

  /** Apply writes in held shards now (the session goes on); several shards' writes form one WAL group. */
  write(ops: Map<number, HoldOp[]>): void {
    const to = [...ops].filter(([, list]) => list.length > 0);
    const group = this.group(to.map(([s]) => s));
    for (const [s, list] of to) {
      this.srv.shards.post(s, group === undefined ? { t: 'ops', ops: list } : { t: 'ops', ops: list, group });
    }
  }

  /**
   * Resolves once every listed shard has handled what was posted so far and published its
   * replies — after its WAL records were written (and fsynced with appendfsync always).
   */
  async sync(shards: Iterable<number>): Promise<void> {
    await Promise.all([...shards].map((s) => this.request(s, OP_DUMP, 0, [])));
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
