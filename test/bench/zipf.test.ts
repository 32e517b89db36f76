import t from 'tap';
import { KeyChooser } from '../../bench/gen/keys.ts';
import { Rng } from '../../bench/gen/rng.ts';
import { Zipf, zipfProbability } from '../../bench/gen/zipf.ts';

/** Pearson chi-square of observed counts against expected probabilities over log-spaced rank bins. */
function chiSquare(
  counts: Float64Array,
  n: number,
  skew: number,
  samples: number,
): { chi: number; bins: number } {
  let norm = 0;
  for (let k = 1; k <= n; k++) norm += 1 / k ** skew;
  let chi = 0;
  let bins = 0;
  let lo = 1;
  while (lo <= n) {
    const hi = Math.min(n, Math.max(lo, Math.floor(lo * 1.15)));
    let obs = 0;
    let p = 0;
    for (let k = lo; k <= hi; k++) {
      obs += counts[k]!;
      p += 1 / k ** skew / norm;
    }
    const exp = p * samples;
    chi += (obs - exp) ** 2 / exp;
    bins++;
    lo = hi + 1;
  }
  return { chi, bins };
}

t.test('zipf matches 1/k^s (chi-square, deterministic seed) for s < 1 and s > 1', async (t) => {
  // Upper 0.1% point of chi-square with df degrees of freedom (Wilson–Hilferty, z = 3.09).
  const critical = (df: number): number => df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;
  for (const skew of [0.99, 1.2, 0.5]) {
    const n = 1000;
    const N = 200_000;
    const z = new Zipf(n, skew, new Rng(42));
    const counts = new Float64Array(n + 1);
    let bad = 0;
    for (let i = 0; i < N; i++) {
      const k = z.sample();
      if (k < 1 || k > n || !Number.isInteger(k)) bad++;
      else counts[k]!++;
    }
    t.equal(bad, 0, 'every rank in 1..n');
    const { chi, bins } = chiSquare(counts, n, skew, N);
    t.ok(
      chi < critical(bins - 1),
      `s=${skew}: chi² ${chi.toFixed(1)} over ${bins} bins < ${critical(bins - 1).toFixed(1)}`,
    );
    // The head of the distribution, where a cache benchmark's hot keys are: within 4 sigma.
    for (const k of [1, 2, 10]) {
      const want = zipfProbability(n, skew, k) * N;
      t.ok(
        Math.abs(counts[k]! - want) < 4 * Math.sqrt(want),
        `s=${skew}: rank ${k} ${counts[k]} ≈ ${want.toFixed(0)}`,
      );
    }
  }
});

t.test('zipf is reproducible from its seed and rejects bad parameters', async (t) => {
  const a = new Zipf(100, 0.99, new Rng(7));
  const b = new Zipf(100, 0.99, new Rng(7));
  const xs = Array.from({ length: 50 }, () => a.sample());
  t.same(
    Array.from({ length: 50 }, () => b.sample()),
    xs,
  );
  t.not(Array.from({ length: 50 }, () => new Zipf(100, 0.99, new Rng(8)).sample()).join(), xs.join());
  t.throws(() => new Zipf(0, 1, new Rng(1)));
  t.throws(() => new Zipf(10, 0, new Rng(1)));
  const one = new Zipf(1, 0.99, new Rng(1));
  t.equal(one.sample(), 1);
});

t.test('rng: uniform enough, reproducible', async (t) => {
  const r = new Rng(1);
  const buckets = new Array<number>(10).fill(0);
  let sum = 0;
  let outside = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = r.next();
    if (!(x >= 0 && x < 1)) outside++;
    buckets[Math.floor(x * 10)]!++;
    sum += x;
  }
  t.equal(outside, 0, 'all in [0, 1)');
  t.ok(Math.abs(sum / 100_000 - 0.5) < 0.01);
  for (const b of buckets) t.ok(Math.abs(b - 10_000) < 500, `decile ${b}`);
  t.equal(new Rng(5).nextU32(), new Rng(5).nextU32());
});

t.test(
  'key chooser: uniform covers the keyspace, sequential walks and wraps, zipfian is 0-based',
  async (t) => {
    const u = new KeyChooser(50, 'uniform', 1, new Rng(3));
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(u.next());
    t.equal(seen.size, 50);
    t.ok([...seen].every((k) => k >= 0 && k < 50));
    const s = new KeyChooser(5, 'sequential', 1, new Rng(3), 3);
    t.same(
      Array.from({ length: 7 }, () => s.next()),
      [3, 4, 0, 1, 2, 3, 4],
    );
    const z = new KeyChooser(10, 'zipfian', 0.99, new Rng(3));
    const zs = Array.from({ length: 2000 }, () => z.next());
    t.ok(zs.every((k) => k >= 0 && k < 10));
    t.ok(zs.filter((k) => k === 0).length > zs.filter((k) => k === 9).length * 5, 'key 0 is the hottest');
  },
);
