import type { CommandCounters } from '../observability/command-stats.ts';
import { LATENCY_EVENTS, type LatencySeries } from '../observability/latency-monitor.ts';
import type { RespWriter } from '../protocol/writer.ts';
import type { LocalContext } from '../server/local.ts';
import { commandByName } from './table.ts';

/**
 * LATENCY LATEST / HISTORY / RESET / DOCTOR / HISTOGRAM / HELP (Redis 7.0 reply shapes).
 * Events come from the latency monitor (observability/latency-monitor.ts), merged over the
 * main thread and every shard; histograms from the per-command execution stats.
 */

function latest(c: LocalContext): void {
  const events = c.srv.latency.all();
  c.out.arrayHeader(events.length);
  for (const [name, s] of events) {
    c.out.arrayHeader(4);
    c.out.bulkString(name);
    c.out.integer(s.latestTime);
    c.out.integer(s.latestMs);
    c.out.integer(s.max);
  }
}

function history(c: LocalContext): void {
  const ev = (LATENCY_EVENTS as readonly string[]).indexOf(c.str(0));
  const s = ev < 0 ? null : c.srv.latency.series(ev);
  const samples = s === null ? [] : s.samples;
  c.out.arrayHeader(samples.length);
  for (const [time, ms] of samples) {
    c.out.arrayHeader(2);
    c.out.integer(time);
    c.out.integer(ms);
  }
}

function reset(c: LocalContext): void {
  if (c.argc === 0) return c.out.integer(c.srv.latency.reset());
  // Each name counts once per argument, as Redis sums latencyResetEvent over the arguments.
  let n = 0;
  for (let i = 0; i < c.argc; i++) n += c.srv.latency.reset([c.str(i)]);
  c.out.integer(n);
}

/**
 * One command's histogram as Redis fillCommandCDF writes it: {calls, histogram_usec: {upper
 * bound µs → cumulative count}}, listing only the buckets where the count grows. Tessera's
 * buckets are powers of two: bucket k holds executions of [2^k, 2^(k+1)) µs, so its key is 2^(k+1).
 */
function writeCdf(out: RespWriter, h: Float64Array, total: number): void {
  out.mapHeader(2);
  out.bulkString('calls');
  out.integer(total);
  out.bulkString('histogram_usec');
  let steps = 0;
  for (let k = 0; k < h.length; k++) if (h[k]! > 0) steps++;
  out.mapHeader(steps);
  let acc = 0;
  for (let k = 0; k < h.length; k++) {
    if (h[k]! === 0) continue;
    acc += h[k]!;
    out.integer(2 ** (k + 1));
    out.integer(acc);
  }
}

function histogramTotal(c: CommandCounters): number {
  let n = 0;
  for (const x of c.histogram) n += x;
  return n;
}

function histogram(c: LocalContext): void {
  const snap = c.srv.commandStats.snapshot();
  const names: string[] = [];
  const has = (name: string): boolean => {
    const s = snap.get(name);
    return s !== undefined && histogramTotal(s) > 0;
  };
  if (c.argc === 0) {
    for (const name of snap.keys()) if (has(name)) names.push(name);
  } else {
    // Like Redis: unknown names are skipped, a container adds its subcommands, repeats repeat.
    for (let i = 0; i < c.argc; i++) {
      const spec = commandByName(c.str(i));
      if (spec === undefined) continue;
      if (has(spec.name)) names.push(spec.name);
      if (spec.subcommands)
        for (const sub of spec.subcommands.values()) if (has(sub.name)) names.push(sub.name);
    }
  }
  c.out.mapHeader(names.length);
  for (const name of names) {
    const s = snap.get(name)!;
    c.out.bulkString(name);
    writeCdf(c.out, s.histogram, histogramTotal(s));
  }
}

/** Redis analyzeLatencyForEvent: sample count, average, mean absolute deviation, period. */
function analyze(s: LatencySeries, now: number): { n: number; avg: number; mad: number; period: number } {
  const n = s.samples.length;
  let sum = 0;
  let oldest = Infinity;
  for (const [t, ms] of s.samples) {
    sum += ms;
    oldest = Math.min(oldest, t);
  }
  const avg = Math.floor(sum / n);
  const period = Math.max(1, now - oldest);
  let dev = 0;
  for (const [, ms] of s.samples) dev += Math.abs(avg - ms);
  return { n, avg, mad: Math.floor(dev / n), period };
}

const ADVICE: Record<string, string[]> = {
  command: ['slowlog', 'large-objects'],
  'fast-command': ['fast', 'large-objects'],
  'expire-cycle': ['expire'],
};

const ADVICE_TEXT: Record<string, string> = {
  slowlog:
    '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.',
  'large-objects':
    '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.',
  fast: '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to: 1) Lower the system load. 2) Use a computer / VM just for Redis if you are running other software in the same system. 3) Check if you have a "noisy neighbour" problem. 4) Check with \'redis-cli --intrinsic-latency 100\' what is the intrinsic latency in your system. 5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.',
  expire:
    "- An active expiry step took longer than the threshold: many keys expire at the same moment, or active-expire-budget-ms is above latency-monitor-threshold. Spread the TTLs (add some jitter) or lower active-expire-budget-ms; Tessera's shards expire keys in bounded steps between commands.",
};

/** LATENCY DOCTOR: Redis createLatencyReport's structure over the merged events. */
export function latencyReport(events: [string, LatencySeries][], threshold: number, now: number): string {
  if (events.length === 0 && threshold === 0)
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
  if (events.length === 0)
    return 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n';
  let report =
    "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
  const advice = new Set<string>();
  events.forEach(([name, s], i) => {
    const a = analyze(s, now);
    report += `${i + 1}. ${name}: ${a.n} latency spikes (average ${a.avg}ms, mean deviation ${a.mad}ms, period ${(a.period / a.n).toFixed(2)} sec). Worst all time event ${s.max}ms.\n`;
    for (const x of ADVICE[name] ?? []) advice.add(x);
  });
  report += '\nI have a few advices for you:\n\n';
  for (const x of Object.keys(ADVICE_TEXT)) if (advice.has(x)) report += `${ADVICE_TEXT[x]}\n`;
  return report;
}

const LATENCY_HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Prints this help.',
];

export const latencyHandlers: Record<string, (c: LocalContext) => void> = {
  'latency|latest': latest,
  'latency|history': history,
  'latency|reset': reset,
  'latency|histogram': histogram,
  'latency|doctor': (c) =>
    c.out.verbatim(
      latencyReport(c.srv.latency.all(), c.srv.latency.threshold, Math.floor(Date.now() / 1000)),
    ),
  'latency|help': (c) => {
    c.out.arrayHeader(LATENCY_HELP.length);
    for (const l of LATENCY_HELP) c.out.simple(l);
  },
};
