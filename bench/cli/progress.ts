/**
 * The progress line on stderr while a run is under way: what is running, a bar over warmup +
 * measurement, and the running ops/s read from the threads' shared reply counters. On a
 * terminal it redraws in place; otherwise (CI, logs) it prints one line per finished run.
 */
import { fmtInt } from '../report/format.ts';

const WIDTH = 24;

export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(enabled: boolean, out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
    this.enabled = enabled;
    this.tty = out.isTTY === true;
  }

  /** Start drawing for a run that begins at startAt (epoch ms) and lasts warmupMs + durationMs. */
  begin(label: string, startAt: number, warmupMs: number, durationMs: number, counters: Float64Array): void {
    if (!this.enabled || !this.tty) return;
    let last = 0;
    let lastT = Date.now();
    let rate = 0;
    const draw = (): void => {
      const now = Date.now();
      let sum = 0;
      for (let i = 0; i < counters.length; i++) sum += counters[i]!;
      if (now - lastT >= 400) {
        rate = ((sum - last) * 1000) / (now - lastT);
        last = sum;
        lastT = now;
      }
      const el = Math.max(0, now - startAt);
      const total = warmupMs + durationMs;
      const filled = Math.min(WIDTH, Math.round((el / total) * WIDTH));
      const phase = el < warmupMs ? 'warmup' : 'measure';
      const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
      const secs = `${(Math.min(el, total) / 1000).toFixed(1)}/${(total / 1000).toFixed(1)}s`;
      this.out.write(`\r\x1b[2K${label} ${bar} ${secs} ${phase} ${fmtInt(rate)} ops/s`);
    };
    this.timer = setInterval(draw, 200);
  }

  /** Replace the bar with the run's final line. */
  end(line: string): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.enabled) return;
    this.out.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  note(line: string): void {
    if (!this.enabled) return;
    this.out.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}
