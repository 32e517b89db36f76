import type { CommandSpec } from '../commands/types.ts';
import type { Connection } from './connection.ts';

/**
 * CLIENT PAUSE state: while active, commands of the paused kind (all, or only writes) are held
 * in their connections exactly like a full ring holds them, and run in order when the pause ends
 * (timeout or CLIENT UNPAUSE). A new pause only ever extends the current one.
 */
export class ClientPause {
  active = false;
  private all = false;
  private end = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Connections holding a command back until the pause ends. */
  readonly held = new Set<Connection>();
  private readonly onEnd: () => void;

  constructor(onEnd: () => void) {
    this.onEnd = onEnd;
  }

  /** Whether `spec` must wait (checked by the dispatcher only while a pause is active). */
  holds(spec: CommandSpec): boolean {
    return this.all ? spec.name !== 'client|unpause' : spec.write;
  }

  start(ms: number, all: boolean): void {
    const end = Date.now() + ms;
    this.all = this.active ? this.all || all : all;
    if (!this.active || end > this.end) {
      this.end = end;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.stop(), ms);
    }
    this.active = true;
  }

  /** End the pause; the server then resumes every held connection (onEnd). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.active = false;
    this.onEnd();
  }
}
