/**
 * Server-side CPU time of a process (all threads, user + system) from /proc. The delta over a
 * measurement window divided by the operations served gives CPU per operation — a figure that
 * stays comparable when the load generator shares (and steals) the machine's cores, unlike raw
 * throughput.
 *
 * Source: the sum of /proc/<pid>/task/<tid>/schedstat run times (nanoseconds) when the kernel
 * has schedstat, because /proc/<pid>/stat's utime + stime count 10 ms clock ticks, too coarse
 * for one-second windows (--quick) or an idle-ish open-loop server. /proc/<pid>/stat is the
 * fallback. Both cover every thread; schedstat misses threads that exit inside the window,
 * which the servers measured here (long-lived shard/IO threads) do not do.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clkTck = 0;

/** Clock ticks per second (getconf CLK_TCK; 100 on every mainstream Linux). */
export function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** CPU seconds (user + system) the process has used so far, or null if unreadable. */
export function cpuSeconds(pid: number): number | null {
  return schedstatSeconds(pid) ?? statSeconds(pid);
}

export function schedstatSeconds(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // the thread exited between readdir and read
      }
    }
    return Number.isFinite(ns) ? ns / 1e9 : null;
  } catch {
    return null;
  }
}

export function statSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond();
}

/** Samples a process's CPU time at two instants. */
export class CpuWindow {
  private readonly pid: number | null;
  private begin: number | null = null;
  private end: number | null = null;

  constructor(pid: number | null) {
    this.pid = pid;
  }

  mark(which: 'begin' | 'end'): void {
    if (this.pid === null) return;
    if (which === 'begin') this.begin = cpuSeconds(this.pid);
    else this.end = cpuSeconds(this.pid);
  }

  /** CPU seconds used between the marks, or null when unknown. */
  seconds(): number | null {
    return this.begin === null || this.end === null ? null : this.end - this.begin;
  }
}
