/**
 * INFO errorstats: error replies counted by their first word (ERR, WRONGTYPE, NOAUTH…), as
 * Redis does, on the main thread where every reply passes.
 */
export class ErrorStats {
  readonly byPrefix = new Map<string, number>();
  total = 0;

  /** Count the error reply starting at src[off] ('-'). */
  count(src: Buffer, off: number, len: number): void {
    this.total++;
    let end = off + 1;
    const lim = Math.min(off + len, off + 64);
    while (end < lim && src[end] !== 32 && src[end] !== 13) end++;
    const prefix = src.toString('latin1', off + 1, end);
    this.byPrefix.set(prefix, (this.byPrefix.get(prefix) ?? 0) + 1);
  }

  reset(): void {
    this.byPrefix.clear();
    this.total = 0;
  }
}

export const errorStats = new ErrorStats();
