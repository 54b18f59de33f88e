import type { CheckReport } from '../../check/run.js';
import type { IndependenceRow } from './independence.js';

/** The element with `id`, typed; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

export function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

function fillTable(table: HTMLTableElement, header: string[], rows: (string | HTMLElement)[][]) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of header) head.appendChild(document.createElement('th')).textContent = h;
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) {
      const td = tr.insertCell();
      if (typeof cell === 'string') td.textContent = cell;
      else td.appendChild(cell);
    }
  }
}

function verdict(ok: boolean): HTMLElement {
  const b = document.createElement('b');
  b.className = ok ? 'pass' : 'fail';
  b.textContent = ok ? 'pass' : 'FAIL';
  return b;
}

const exp = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));

/** The agreement table, with the columns of `vbn check`'s report. */
export function showAgreement(report: CheckReport): void {
  fillTable(
    byId('agreement-table'),
    ['check', 'compared', 'backend', 'measure', 'tolerance', 'result'],
    report.rows.map((r) => {
      const bitwise = r.tolerance.bitwise === true;
      return [
        r.check,
        r.compared,
        r.backend,
        bitwise ? `${r.differing} values differ` : `||a-b||/||b|| ${exp(r.relNorm)}`,
        bitwise ? 'bitwise' : exp(r.tolerance.relNorm ?? NaN),
        verdict(r.ok),
      ];
    }),
  );
  const failed = report.rows.filter((r) => !r.ok).length;
  setText(
    'agreement-summary',
    failed === 0
      ? `all ${report.rows.length} checks pass: the strategies and the backends agree`
      : `${failed} of ${report.rows.length} checks FAIL: ${report.divergence[0]}`,
  );
}

/** The batch-independence table and its one-line verdict. */
export function showIndependence(rows: IndependenceRow[], batchNorm: boolean): void {
  fillTable(
    byId('independence-table'),
    ['minibatch', 'logits of the digit', 'max |difference| from alone'],
    rows.map((r) => [
      r.companions === 0 ? 'alone' : `with ${r.companions} random companions`,
      r.logits.map((v) => v.toFixed(5)).join('  '),
      r.maxDiff === 0 ? '0 (identical)' : r.maxDiff.toExponential(2),
    ]),
  );
  const worst = Math.max(...rows.map((r) => r.maxDiff));
  const what = batchNorm ? 'ordinary batch norm' : 'VBN';
  setText(
    'independence-summary',
    worst === 0
      ? `${what}: the digit's logits are identical in every minibatch`
      : `${what}: the digit's logits change with its companions (max |difference| ${worst.toExponential(2)})`,
  );
}
