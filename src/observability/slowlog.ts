/**
 * SLOWLOG entries, recorded where the command executed (a shard or the main thread) with
 * Redis's argument trimming: at most 32 arguments (the last one saying how many more) and
 * 128 bytes per argument (with "... (N more bytes)").
 */
export interface SlowEntry {
  id: number;
  /** Unix time in seconds when the command ran. */
  time: number;
  us: number;
  args: string[];
  connId: number;
}

const MAX_ARGS = 32;
const MAX_ARG_LEN = 128;

export class SlowLog {
  private entries: SlowEntry[] = [];
  private nextId = 0;
  /** slowlog-log-slower-than in µs; negative disables, 0 logs everything. */
  threshold = 10000;
  maxLen = 128;

  /** Whether an execution of `us` µs must be logged. */
  wants(us: number): boolean {
    return this.threshold >= 0 && us >= this.threshold;
  }

  add(us: number, connId: number, argc: number, arg: (i: number) => Buffer): void {
    const args: string[] = [];
    const n = Math.min(argc, MAX_ARGS);
    for (let i = 0; i < n; i++) {
      if (i === MAX_ARGS - 1 && argc > MAX_ARGS) {
        args.push(`... (${argc - MAX_ARGS + 1} more arguments)`);
        break;
      }
      const a = arg(i);
      args.push(
        a.length > MAX_ARG_LEN
          ? `${a.toString('latin1', 0, MAX_ARG_LEN)}... (${a.length - MAX_ARG_LEN} more bytes)`
          : a.toString('latin1'),
      );
    }
    this.entries.unshift({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      us: Math.round(us),
      args,
      connId,
    });
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  get(count: number): SlowEntry[] {
    return this.entries.slice(0, count < 0 ? this.entries.length : count);
  }

  get length(): number {
    return this.entries.length;
  }

  reset(): void {
    this.entries = [];
  }

  trim(): void {
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }
}
