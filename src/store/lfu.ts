/**
 * Redis's LFU (evict.c) on the record header. Under an LFU policy the LFU byte is the 8-bit
 * logarithmic access counter and the LRU int32 holds the minute (mod 2^16, Redis's 16-bit
 * "ldt") when the counter was last decremented — Redis reuses its 24-bit lru field the same
 * way. The counter grows with probability 1 / ((counter - LFU_INIT) * lfu-log-factor + 1) per
 * access and loses one per lfu-decay-time minutes without access.
 */
import { LFU_INIT } from './record.ts';

/** Redis's LFUGetTimeInMinutes: minutes since the epoch, 16 bits. */
export function lfuMinutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 65535;
}

/** Minutes since `ldt`, with one wrap of the 16-bit clock (LFUTimeElapsed). */
function elapsed(ldt: number, now: number): number {
  return now >= ldt ? now - ldt : 65535 - ldt + now;
}

/** LFUDecrAndReturn: the counter after the decay periods elapsed since `ldt`. */
export function lfuDecayed(counter: number, ldt: number, nowMin: number, decayTime: number): number {
  const periods = decayTime > 0 ? Math.floor(elapsed(ldt & 65535, nowMin) / decayTime) : 0;
  if (periods === 0) return counter;
  return periods > counter ? 0 : counter - periods;
}

/** LFULogIncr: one access. */
export function lfuIncr(counter: number, logFactor: number): number {
  if (counter === 255) return 255;
  const base = Math.max(0, counter - LFU_INIT);
  return Math.random() < 1 / (base * logFactor + 1) ? counter + 1 : counter;
}
