/**
 * Zipfian ranks by rejection-inversion (Hörmann & Derflinger 1996, as in Apache Commons RNG's
 * RejectionInversionZipfSampler): P(k) ∝ 1/k^s for k in 1..n. Chosen over YCSB's Gray et al.
 * method because it needs O(1) setup (no zeta(n) sum over the whole keyspace) and works for any
 * skew s > 0, including s ≥ 1 where Gray's formula breaks down. Expected rejections < 1.1 per
 * sample; sample() allocates nothing.
 */
import type { Rng } from './rng.ts';

export class Zipf {
  private readonly n: number;
  private readonly s: number;
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sDiv: number;
  private readonly rng: Rng;

  constructor(n: number, skew: number, rng: Rng) {
    if (!(n >= 1) || !Number.isInteger(n))
      throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    if (!(skew > 0)) throw new RangeError(`zipf: skew must be > 0, got ${skew}`);
    this.n = n;
    this.s = skew;
    this.rng = rng;
    this.hX1 = this.hIntegral(1.5) - 1;
    this.hN = this.hIntegral(n + 0.5);
    this.sDiv = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in 1..n; rank 1 is the most popular. */
  sample(): number {
    for (;;) {
      const u = this.hN + this.rng.next() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sDiv || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.s) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

/** log1p(x)/x, with a series near 0 where the division loses precision. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

/** expm1(x)/x, with a series near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

/** Exact probability of rank k (1-based) — for tests and for documenting the skew. */
export function zipfProbability(n: number, skew: number, k: number): number {
  let norm = 0;
  for (let i = 1; i <= n; i++) norm += 1 / i ** skew;
  return 1 / k ** skew / norm;
}
