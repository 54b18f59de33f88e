import { formatTable } from '../util/table.js';
import type { CheckReport } from './run.js';

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));

/** The report as a text table: one row per check, then where the implementations part. */
export function formatReport(report: CheckReport): string {
  const header = ['check', 'compared', 'backend', 'measure', 'tolerance', 'result'];
  const body = report.rows.map((r) => {
    const bitwise = r.tolerance.bitwise === true;
    const measure = bitwise ? `${r.differing} values differ` : `||a-b||/||b|| ${fmt(r.relNorm)}`;
    const tolerance = bitwise
      ? 'bitwise'
      : `${fmt(r.tolerance.relNorm ?? r.tolerance.maxAbs ?? NaN)}`;
    return [r.check, r.compared, r.backend, measure, tolerance, r.ok ? 'pass' : 'FAIL'];
  });
  const out = formatTable(header, body);
  const failed = report.rows.filter((r) => !r.ok);
  out.push('');
  if (report.ok) {
    out.push(`all ${report.rows.length} checks pass: the two implementations agree`);
  } else {
    out.push(`${failed.length} of ${report.rows.length} checks FAIL:`);
    for (const r of failed) out.push(`  ${r.backend}: ${r.message}`);
    for (const d of report.divergence) out.push(`  -> ${d}`);
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/** The report as one JSON object. */
export function reportJson(report: CheckReport, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ok: report.ok,
    ...extra,
    divergence: report.divergence,
    notes: report.notes,
    checks: report.rows.map((r) => ({
      check: r.check,
      compared: r.compared,
      backend: r.backend,
      ok: r.ok,
      relNorm: r.relNorm,
      maxAbs: r.maxAbs,
      maxRel: r.maxRel,
      differing: r.differing,
      tolerance: r.tolerance,
      message: r.message,
    })),
  });
}
