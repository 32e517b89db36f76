/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts) that opens from
 * disk in any browser. Summary table and charts first, then per-workload detail, then the
 * machine, versions and settings that make the numbers reproducible.
 */
import { flags, type Cell, type Report } from '../suite/results.ts';
import { fmtCpu, fmtInt, fmtMs, fmtRatio } from './format.ts';
import { barChart, esc, PALETTE, percentileChart } from './svg.ts';

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#111}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#666}
table{border-collapse:collapse;margin:6px 0 12px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}
.bad{color:#b91c1c;font-weight:600}.na{color:#888}.grid{display:flex;flex-wrap:wrap;gap:16px}
.grid>div{flex:1 1 460px;max-width:560px}svg{max-width:100%;height:auto}code,pre{font:12px ui-monospace,monospace}
pre{background:#f6f6f6;padding:8px;overflow:auto}.dot{display:inline-block;width:10px;height:10px;margin-right:4px}
`;

function dot(i: number): string {
  return `<span class="dot" style="background:${PALETTE[i % PALETTE.length]}"></span>`;
}

function cellSummary(c: Cell): string {
  if (c.status === 'unsupported')
    return `<td colspan="3" class="na">unsupported by target (${esc(c.unsupportedCommands.join(', '))})</td>`;
  if (c.status === 'failed') return `<td colspan="3" class="bad">FAILED</td>`;
  const f = flags(c);
  return (
    `<td>${fmtInt(c.opsPerSec)}${f.length ? ` <span class="bad">⚠ ${esc(f.join(', '))}</span>` : ''}</td>` +
    `<td>${fmtMs(c.latency.p50)} / ${fmtMs(c.latency.p99)} / ${fmtMs(c.latency.p999)}</td><td>${fmtCpu(c.cpuUsPerOp)}</td>`
  );
}

function summaryTable(r: Report): string {
  const names = r.targets.map((t) => t.name);
  const others = r.settings.baseline ? names.filter((n) => n !== r.settings.baseline) : [];
  const head =
    `<tr><th rowspan="2">workload</th>${names.map((n, i) => `<th colspan="3">${dot(i)}${esc(n)}</th>`).join('')}` +
    `${others.map((n) => `<th rowspan="2">${esc(n)}/${esc(r.settings.baseline!)}<br>ops ratio</th>`).join('')}</tr>` +
    `<tr>${names.map(() => '<th>ops/s</th><th>p50 / p99 / p99.9 ms</th><th>CPU µs/op</th>').join('')}</tr>`;
  const rows = r.workloads.map((w) => {
    const cells = names.map((n) => cellSummary(w.cells.find((c) => c.target === n)!)).join('');
    const ratios = others
      .map((n) => {
        const x = w.ratios.find((q) => q.target === n);
        return `<td>${x ? `${fmtRatio(x.median)} <span class="muted">(${fmtRatio(x.min)}–${fmtRatio(x.max)})</span>` : '–'}</td>`;
      })
      .join('');
    return `<tr><td><a href="#w-${esc(w.workload.name)}">${esc(w.workload.name)}</a></td>${cells}${ratios}</tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

function throughputChart(r: Report): string {
  const names = r.targets.map((t) => t.name);
  return barChart(
    r.workloads.map((w) => {
      const cells = names.map((n) => w.cells.find((c) => c.target === n)!);
      return {
        label: w.workload.name,
        values: cells.map((c) => (c.status === 'ok' ? c.opsPerSec : null)),
        texts: cells.map((c) =>
          c.status === 'ok'
            ? fmtInt(c.opsPerSec)
            : c.status === 'unsupported'
              ? 'unsupported by target'
              : 'failed',
        ),
      };
    }),
    names,
    { unit: 'ops/s', format: fmtInt },
  );
}

function ratioChart(r: Report): string {
  const base = r.settings.baseline;
  const others = base ? r.targets.map((t) => t.name).filter((n) => n !== base) : [];
  if (!base || others.length === 0) return '';
  const groups = r.workloads.map((w) => ({
    label: w.workload.name,
    values: others.map((n) => w.ratios.find((q) => q.target === n)?.median ?? null),
    texts: others.map((n) => {
      const q = w.ratios.find((x) => x.target === n);
      return q ? fmtRatio(q.median) : 'n/a';
    }),
  }));
  return `<h3>Throughput ratio to ${esc(base)} (1.00 = parity)</h3>${barChart(
    groups,
    others.map((n) => `${n}/${base}`),
    { unit: '×', reference: 1, format: fmtRatio },
  )}`;
}

function detail(r: Report): string {
  return r.workloads
    .map((w) => {
      const wl = w.workload;
      const rows = w.cells
        .map((c, i) => {
          if (c.status !== 'ok')
            return `<tr><td>${dot(i)}${esc(c.target)}</td><td colspan="12" class="${c.status === 'failed' ? 'bad' : 'na'}">${esc(c.status === 'unsupported' ? `unsupported by target: ${c.unsupportedCommands.join(', ')} answered "ERR unknown command"` : (c.error ?? 'failed'))}</td></tr>`;
          const l = c.latency;
          const reps = c.reps.map((x) => fmtInt(x.opsPerSec)).join(', ');
          return (
            `<tr><td>${dot(i)}${esc(c.target)}</td><td>${fmtInt(c.opsPerSec)}</td><td class="muted">${reps}</td>` +
            `<td>${fmtMs(l.p50)}</td><td>${fmtMs(l.p90)}</td><td>${fmtMs(l.p99)}</td><td>${fmtMs(l.p999)}</td><td>${fmtMs(l.max)}</td>` +
            `<td>${fmtCpu(c.cpuUsPerOp)}</td><td>${c.cpuCores === null ? '–' : c.cpuCores.toFixed(2)}</td><td>${c.clientCores.toFixed(2)}</td>` +
            `<td>${fmtInt(c.misses)}${c.hitRate !== null ? ` (hit rate ${(c.hitRate * 100).toFixed(1)}%)` : ''}</td><td class="${c.mismatches || c.errors ? 'bad' : ''}">${fmtInt(c.mismatches)} / ${fmtInt(c.errors)}</td></tr>`
          );
        })
        .join('');
      const samples = w.cells.flatMap((c) => c.samples.map((s) => `${c.target}: ${s}`));
      const service = w.cells.filter((c) => c.serviceLatency);
      const chart = percentileChart(
        w.cells.map((c) => ({ name: c.target, points: c.status === 'ok' ? c.curve : [] })),
        wl.mode === 'open' ? 'latency from intended send, by percentile' : 'latency by percentile',
      );
      return `<h3 id="w-${esc(wl.name)}">${esc(wl.name)}</h3><p>${esc(wl.description)} <span class="muted">— ${esc(describe(wl))}</span></p>
<div class="grid"><div><table><tr><th>target</th><th>ops/s (median)</th><th>per rep</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>CPU µs/op</th><th>server cores</th><th>generator cores</th><th>nil replies</th><th>wrong / errors</th></tr>${rows}</table>
${service.length ? `<p class="muted">Service time (from actual send): ${service.map((c) => `${esc(c.target)} p50 ${fmtMs(c.serviceLatency!.p50)} / p99 ${fmtMs(c.serviceLatency!.p99)} ms, ${fmtInt(c.backlog)} requests still unsent when the window closed`).join('; ')}</p>` : ''}
${samples.length ? `<pre class="bad">${esc(samples.join('\n'))}</pre>` : ''}</div><div>${chart}</div></div>`;
    })
    .join('\n');
}

function describe(w: Report['workloads'][number]['workload']): string {
  const mix = w.mix
    .map((m) => {
      const opt = m.ttl ? ` EX ${m.ttl}` : m.command === 'MSET' || m.command === 'MGET' ? ` ×${m.keys}` : '';
      return `${m.command}${opt} ${Math.round(m.share * 1000) / 10}%`;
    })
    .join(', ');
  const dist = w.distribution === 'zipfian' ? `zipfian s=${w.skew}` : w.distribution;
  const mode = w.mode === 'open' ? `open loop ${fmtInt(w.rate)} req/s` : 'closed loop';
  return `${mix}; ${fmtInt(w.keys)} keys ${dist}; ${w.valueSize} B values; ${w.connections} connections × pipeline ${w.pipeline}; ${mode}`;
}

export function htmlReport(r: Report): string {
  const m = r.meta;
  const s = r.settings;
  const targets = r.targets
    .map(
      (t, i) =>
        `<tr><td>${dot(i)}${esc(t.name)}</td><td>${esc(t.kind)} ${esc(t.version)}</td><td>${esc(t.address)}</td><td>${t.owned ? 'started by the harness' : 'external (--target)'}</td><td style="text-align:left">${esc(t.persistence)}</td><td style="text-align:left">${esc(t.pidSource)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera benchmark ${esc(m.date)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head><body>
<h1>Tessera benchmark</h1>
<p class="muted">${esc(m.date)} · commit ${esc(m.commit)}${m.dirty ? ' (uncommitted changes)' : ''} · ${m.machine.cores} × ${esc(m.machine.model)}, ${m.machine.memoryGiB} GiB · Node ${esc(m.node)} · <code>${esc(m.command)}</code></p>
<p>Throughput is the median over ${s.reps} repetition${s.reps === 1 ? '' : 's'} of ${s.durationMs / 1000} s (after ${s.warmupMs / 1000} s warmup), targets interleaved; latency percentiles merge every repetition; ratio = median of per-repetition ratios (min–max). CPU µs/op is server CPU time from /proc per operation served. The load generator (${s.threads} thread${s.threads === 1 ? '' : 's'}) shares the machine with the servers.</p>
${summaryTable(r)}
<h2>Throughput</h2>${throughputChart(r)}${ratioChart(r)}
<h2>Workloads</h2>${detail(r)}
<h2>Setup</h2>
<table><tr><th>target</th><th>version</th><th>address</th><th>how</th><th>persistence</th><th>CPU accounting pid</th></tr>${targets}</table>
<table>
<tr><td>machine</td><td style="text-align:left">${m.machine.cores} cores · ${esc(m.machine.model)} · ${m.machine.memoryGiB} GiB · ${esc(m.machine.os)} ${esc(m.machine.arch)}</td></tr>
<tr><td>software</td><td style="text-align:left">Node ${esc(m.node)} · Tessera ${esc(m.tessera)} · ${esc(m.redisServer ?? 'redis-server not installed')}</td></tr>
<tr><td>commit</td><td style="text-align:left">${esc(m.commit)}${m.dirty ? ' + uncommitted changes' : ''}</td></tr>
<tr><td>settings</td><td style="text-align:left">suite ${esc(s.suite)}${s.quick ? ' (--quick)' : ''} · ${s.reps} reps · warmup ${s.warmupMs} ms · duration ${s.durationMs} ms · ${s.threads} generator threads · seed ${s.seed}</td></tr>
</table>
</body></html>
`;
}
