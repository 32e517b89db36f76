/**
 * Key choice for one load-generator thread: an index in [0, keys) drawn from the workload's
 * distribution. Indices become fixed-width decimal digits in the key (see resp/commands.ts), so
 * choosing a key is arithmetic only — no strings on the hot path.
 */
import { Rng } from './rng.ts';
import { Zipf } from './zipf.ts';

export type Distribution = 'uniform' | 'zipfian' | 'sequential';

export class KeyChooser {
  private readonly keys: number;
  private readonly kind: Distribution;
  private readonly rng: Rng;
  private readonly zipf: Zipf | null;
  private seq: number;

  /**
   * @param start where a sequential walk begins: threads start at different offsets so that
   *   together they cover the keyspace instead of all writing the same keys in lockstep.
   */
  constructor(keys: number, kind: Distribution, skew: number, rng: Rng, start = 0) {
    this.keys = keys;
    this.kind = kind;
    this.rng = rng;
    this.zipf = kind === 'zipfian' ? new Zipf(keys, skew, rng) : null;
    this.seq = start % keys;
  }

  next(): number {
    if (this.kind === 'uniform') return this.rng.below(this.keys);
    if (this.zipf !== null) return this.zipf.sample() - 1;
    const k = this.seq;
    this.seq = k + 1 === this.keys ? 0 : k + 1;
    return k;
  }
}
