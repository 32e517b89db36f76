/**
 * The terminal table (one row per workload, a column group per target, then the throughput
 * ratio against the baseline) and its markdown twin for README.
 */
import { flags, type Cell, type Report, type WorkloadResult } from '../suite/results.ts';
import { fmtCpu, fmtInt, fmtMs, fmtRatio } from './format.ts';

const COLS = ['ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/op'];

function cellColumns(c: Cell | undefined): string[] {
  if (!c) return ['', '', '', '', ''];
  if (c.status === 'unsupported') return ['unsupported', 'by target', '', '', ''];
  if (c.status === 'failed') return ['FAILED', '', '', '', ''];
  return [
    fmtInt(c.opsPerSec),
    fmtMs(c.latency.p50),
    fmtMs(c.latency.p99),
    fmtMs(c.latency.p999),
    fmtCpu(c.cpuUsPerOp),
  ];
}

function ratioColumns(r: Report, w: WorkloadResult): string[] {
  return ratioTargets(r).map((name) => {
    const x = w.ratios.find((q) => q.target === name);
    return x ? fmtRatio(x.median) : '–';
  });
}

function ratioTargets(r: Report): string[] {
  return r.settings.baseline === null
    ? []
    : r.targets.map((t) => t.name).filter((n) => n !== r.settings.baseline);
}

function notes(w: WorkloadResult): string {
  const parts: string[] = [];
  for (const c of w.cells) {
    const f = flags(c);
    if (c.status === 'unsupported')
      parts.push(`${c.target}: unsupported by target (${c.unsupportedCommands.join(', ')})`);
    if (c.status === 'failed') parts.push(`${c.target}: ${c.error?.split('\n')[0] ?? 'failed'}`);
    if (f.length) parts.push(`${c.target}: ${f.join(', ')}`);
    if (c.hitRate !== null) parts.push(`${c.target}: hit rate ${(c.hitRate * 100).toFixed(1)}%`);
  }
  return parts.join('; ');
}

/** Plain-text table with a group header per target. */
export function terminalTable(r: Report): string {
  const names = r.targets.map((t) => t.name);
  const ratioNames = ratioTargets(r);
  const header2 = ['workload', ...names.flatMap(() => COLS), ...ratioNames.map(() => 'ops ratio'), 'notes'];
  const rows = r.workloads.map((w) => [
    w.workload.name,
    ...names.flatMap((n) => cellColumns(w.cells.find((c) => c.target === n))),
    ...ratioColumns(r, w),
    notes(w),
  ]);
  const widths = header2.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  // Group header: each target's name centred over its five columns, ratio labels over theirs.
  const groups: string[] = [''.padEnd(widths[0]!)];
  let col = 1;
  for (const n of names) {
    const span = widths.slice(col, col + COLS.length).reduce((a, b) => a + b, 0) + 2 * (COLS.length - 1);
    groups.push(center(n, span));
    col += COLS.length;
  }
  for (const n of ratioNames) {
    groups.push(center(`${n}/${r.settings.baseline}`, widths[col]!));
    col++;
  }
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const sep = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  return [groups.join('  ').trimEnd(), line(header2), sep, ...rows.map(line)].join('\n');
}

function center(s: string, width: number): string {
  const pad = Math.max(0, width - s.length);
  return ' '.repeat(pad >> 1) + s + ' '.repeat(pad - (pad >> 1));
}

/** The same figures as a markdown table (latency percentiles in one column to stay readable). */
export function markdownTable(r: Report): string {
  const names = r.targets.map((t) => t.name);
  const ratioNames = ratioTargets(r);
  const head = [
    'workload',
    ...names.flatMap((n) => [`${n} ops/s`, `${n} p50 / p99 / p99.9 ms`, `${n} CPU µs/op`]),
    ...ratioNames.map((n) => `${n}/${r.settings.baseline}`),
  ];
  const align = head.map((_, i) => (i === 0 ? '---' : '--:'));
  const rows = r.workloads.map((w) => {
    const cells = names.flatMap((n) => {
      const c = w.cells.find((x) => x.target === n);
      if (!c || c.status === 'failed') return ['FAILED', '', ''];
      if (c.status === 'unsupported') return ['unsupported by target', '', ''];
      const f = flags(c);
      return [
        fmtInt(c.opsPerSec) +
          (c.hitRate !== null ? ` (hit ${(c.hitRate * 100).toFixed(1)}%)` : '') +
          (f.length ? ` ⚠ ${f.join(', ')}` : ''),
        `${fmtMs(c.latency.p50)} / ${fmtMs(c.latency.p99)} / ${fmtMs(c.latency.p999)}`,
        fmtCpu(c.cpuUsPerOp),
      ];
    });
    return [w.workload.name, ...cells, ...ratioColumns(r, w)];
  });
  return [head, align, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}
