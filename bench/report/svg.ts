/**
 * Inline SVG charts for the HTML report, written by hand so the report is one self-contained
 * file (no scripts, no chart library, no network): grouped horizontal bars for throughput and
 * ratios, and HdrHistogram-style latency-by-percentile curves.
 */
export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

export interface BarGroup {
  label: string;
  /** One per series; null = no bar (text instead, e.g. "unsupported"). */
  values: (number | null)[];
  texts: string[];
}

/** Horizontal grouped bars: one group per row label, one bar per series. */
export function barChart(
  groups: BarGroup[],
  series: string[],
  opts: { unit: string; reference?: number; format: (v: number) => string },
): string {
  const labelW = 230;
  const plotW = 520;
  const bar = 14;
  const gap = 10;
  const groupH = series.length * bar + gap;
  const top = 28;
  const height = top + groups.length * groupH + 30;
  const max = Math.max(
    (opts.reference ?? 0) * 1.15,
    ...groups.flatMap((g) => g.values.filter((v): v is number => v !== null)),
    1e-9,
  );
  const x = (v: number): number => labelW + (v / max) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${labelW + plotW + 120} ${height}" ${FONT} role="img">`,
  );
  series.forEach((s, i) => {
    parts.push(
      `<rect x="${labelW + i * 140}" y="6" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`,
    );
    parts.push(`<text x="${labelW + i * 140 + 16}" y="16">${esc(s)}</text>`);
  });
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupH;
    parts.push(
      `<text x="${labelW - 8}" y="${y0 + (series.length * bar) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`,
    );
    g.values.forEach((v, si) => {
      const y = y0 + si * bar;
      if (v === null) {
        parts.push(`<text x="${labelW + 4}" y="${y + bar - 3}" fill="#888">${esc(g.texts[si] ?? '')}</text>`);
        return;
      }
      const w = Math.max(1, x(v) - labelW);
      parts.push(
        `<rect x="${labelW}" y="${y + 1}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${series[si]}: ${opts.format(v)} ${opts.unit}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + bar - 3}">${esc(g.texts[si] ?? opts.format(v))}</text>`,
      );
    });
  });
  const axisY = top + groups.length * groupH;
  parts.push(`<line x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${axisY}" stroke="#444"/>`);
  if (opts.reference !== undefined) {
    const rx = x(opts.reference).toFixed(1);
    parts.push(
      `<line x1="${rx}" y1="${top - 4}" x2="${rx}" y2="${axisY}" stroke="#444" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${rx}" y="${axisY + 16}" text-anchor="middle">${esc(opts.format(opts.reference))}</text>`,
    );
  }
  parts.push(
    `<text x="${labelW + plotW + 110}" y="16" text-anchor="end" fill="#666">${esc(opts.unit)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

export interface CurveSeries {
  name: string;
  points: { x: number; ms: number }[];
}

/**
 * Latency by percentile: x = "number of nines" (0 → p0, 1 → p90, 2 → p99, 3 → p99.9 …) so the
 * tail gets the room it deserves; y logarithmic in ms so a 100× tail and the median both show.
 */
export function percentileChart(series: CurveSeries[], title: string): string {
  const W = 460;
  const H = 240;
  const L = 52;
  const R = 30;
  const T = 26;
  const B = 34;
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return '';
  const xMax = Math.max(3, Math.ceil(Math.max(...pts.map((p) => p.x))));
  const lo = Math.max(1e-3, Math.min(...pts.map((p) => p.ms)));
  const hi = Math.max(lo * 10, ...pts.map((p) => p.ms));
  const yLo = Math.floor(Math.log10(lo));
  const yHi = Math.ceil(Math.log10(hi));
  const px = (x: number): number => L + (x / xMax) * (W - L - R);
  const py = (ms: number): number =>
    T + (1 - (Math.log10(Math.max(ms, 10 ** yLo)) - yLo) / (yHi - yLo)) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" ${FONT} role="img">`,
  ];
  parts.push(`<text x="${L}" y="16" font-weight="600">${esc(title)}</text>`);
  for (let e = yLo; e <= yHi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < 10 ** yLo || v > 10 ** yHi) continue;
      const y = py(v).toFixed(1);
      parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      if (m === 1 || yHi - yLo <= 2)
        parts.push(`<text x="${L - 4}" y="${y}" dy="4" text-anchor="end">${fmtTick(v)}</text>`);
    }
  }
  for (let x = 0; x <= xMax; x++) {
    const label = x === 0 ? 'p0' : `p${(100 * (1 - 10 ** -x)).toFixed(Math.max(0, x - 2))}`;
    parts.push(`<line x1="${px(x)}" y1="${T}" x2="${px(x)}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${px(x)}" y="${H - B + 14}" text-anchor="middle">${label}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle" fill="#666">percentile</text>`);
  parts.push(
    `<text x="12" y="${(T + H - B) / 2}" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle" fill="#666">ms</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = PALETTE[i % PALETTE.length];
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.ms).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    // Top left stays clear: curves start low at p0 and rise to the right.
    parts.push(`<text x="${L + 8}" y="${T + 14 + i * 14}" fill="${color}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function fmtTick(ms: number): string {
  return ms >= 1 ? `${ms}` : ms.toPrecision(1);
}
