/** Number formatting shared by the terminal table, markdown and HTML. */

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

/** Milliseconds with about three significant digits. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toString();
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? r.toFixed(2) : '–';
}

export function fmtCpu(us: number | null): string {
  if (us === null || !Number.isFinite(us)) return '–';
  return us < 10 ? us.toFixed(2) : us.toFixed(1);
}
