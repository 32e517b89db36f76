/**
 * piscina task entry: one call = one load-generator thread's share of one run (its
 * connections, its slice of the rate or of the preload keyspace). Connects, waits for the
 * common start time, runs, drains, and returns counters plus encoded histograms.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from '../stats/histogram.ts';
import { LoadConnection } from './connection.ts';
import { Generator } from './generator.ts';
import type { RunResult, RunTask } from './task.ts';

/** How long in-flight requests may take to answer after the window closes. */
const DRAIN_GRACE_MS = 5000;
/** Replies are copied out of this before the next read on any connection of the thread. */
const readBuf = Buffer.allocUnsafe(256 * 1024);

export default async function run(task: RunTask): Promise<RunResult> {
  const gen = new Generator(task);
  const { cmd, reply } = gen.bufferSizes();
  const window = task.phase === 'preload' ? 64 : task.workload.pipeline;
  const conns: LoadConnection[] = [];
  for (let i = 0; i < task.connections; i++) {
    conns.push(new LoadConnection(gen, window, gen.maxKeys, cmd, reply));
  }
  gen.conns = conns;
  let grace: NodeJS.Timeout | undefined;
  let endTimer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(conns.map((c) => c.connect(task.host, task.port, readBuf)));
    const done = new Promise<void>((resolve, reject) => gen.whenDone(resolve, reject));
    // A failure while still waiting for the start must not count as an unhandled rejection
    // (that would kill the worker thread); it is rethrown by `await done` below.
    done.catch(() => undefined);
    const tStart = task.startAt - performance.timeOrigin;
    const wait = tStart - performance.now();
    if (wait > 0) await sleep(wait);
    const startedLate = Math.max(0, performance.now() - tStart);
    gen.tStart = tStart;
    if (task.phase === 'measure') {
      gen.tMeasure = tStart + task.warmupMs;
      gen.tEnd = gen.tMeasure + task.durationMs;
      endTimer = setTimeout(
        () => {
          gen.stop();
          grace = setTimeout(() => gen.stop(true), DRAIN_GRACE_MS);
        },
        Math.max(0, gen.tEnd - performance.now()),
      );
    } else {
      gen.tMeasure = Infinity; // preload records nothing
    }
    gen.start();
    await done;
    const backlog = gen.backlog();
    return {
      thread: task.thread,
      ops: [...gen.ops],
      errors: [...gen.errors],
      unsupported: [...gen.unsupported],
      mismatches: gen.mismatches,
      misses: gen.misses,
      samples: gen.samples,
      histogram: encode(gen.hist),
      service: gen.service ? encode(gen.service) : null,
      windowMs: task.phase === 'measure' ? task.durationMs : 0,
      backlog,
      unanswered: gen.inFlight(),
      startedLate,
    };
  } finally {
    clearTimeout(endTimer);
    clearTimeout(grace);
    gen.shutdown();
    for (const c of conns) c.close();
  }
}
