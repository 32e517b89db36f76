/**
 * Latency histograms: HdrHistogram (hdr-histogram-js) recording microseconds with 3
 * significant digits. Each load-generator thread records into its own and sends it back
 * encoded (the standard compressed base64 form, also kept in the JSON report); the main thread
 * merges them per run and across repetitions.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** 1 µs .. 60 s; autoResize keeps a pathological stall from throwing. */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decode(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s);
}

/** Merge encoded histograms into a new one. */
export function merge(encoded: Iterable<string>): Histogram {
  const out = newHistogram();
  for (const s of encoded) out.add(decode(s));
  return out;
}

/** Percentiles in milliseconds (the unit of every table and chart). */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(h: Histogram): Percentiles {
  const ms = (us: number): number => us / 1000;
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/**
 * The latency-by-percentile curve HdrHistogram plots use: points at percentiles
 * 100·(1 − 10^−x) for x = 0, 0.1, … up to what the sample count supports, plus the max.
 * x is what a chart puts on its (logarithmic "number of nines") axis.
 */
export function curve(h: Histogram): { x: number; percentile: number; ms: number }[] {
  if (h.totalCount === 0) return [];
  const top = Math.min(6, Math.log10(h.totalCount));
  const points: { x: number; percentile: number; ms: number }[] = [];
  for (let x = 0; x <= top + 1e-9; x += 0.1) {
    const p = 100 * (1 - 10 ** -x);
    points.push({ x: Math.round(x * 10) / 10, percentile: p, ms: h.getValueAtPercentile(p) / 1000 });
  }
  points.push({ x: Math.round(top * 10) / 10 + 0.1, percentile: 100, ms: h.maxValue / 1000 });
  return points;
}
