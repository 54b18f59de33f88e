import { compare, type Agreement, type Tolerance } from './compare.js';
import { logitsOnly, type AnyImplementation } from './evaluate.js';
import type { Values } from './external.js';
import type { CheckData, ParamValues } from './float64.js';

/** block0 < block1 < ... < block10, then anything else by name. */
export function blockOrder(a: string, b: string): number {
  const na = /^block(\d+)$/.exec(a);
  const nb = /^block(\d+)$/.exec(b);
  if (na && nb) return Number(na[1]) - Number(nb[1]);
  return na ? -1 : nb ? 1 : a.localeCompare(b);
}

/**
 * Where two implementations part, in words: the first recorded activation (in block order) that
 * differs, else whether the logits or only the gradients differ. Null when nothing differs.
 */
export function localize(
  backend: string,
  logits: Agreement,
  firstGrad: string | null,
  a: Record<string, Values>,
  b: Record<string, Values>,
  tol: Tolerance,
): string | null {
  if (logits.ok && !firstGrad) return null;
  const common = Object.keys(a)
    .filter((k) => k in b)
    .sort(blockOrder);
  const first = common.find((k) => !compare(k, a[k], b[k], tol).ok);
  if (first) {
    const c = compare(first, a[first], b[first], tol);
    const before = common.slice(0, common.indexOf(first));
    return `on ${backend}, the implementations part at ${first} (||a-b||/||b|| = ${c.relNorm.toExponential(2)})${before.length ? `; ${before.join(', ')} ${before.length === 1 ? 'agrees' : 'agree'}` : ''}`;
  }
  if (logits.ok) {
    return `on ${backend}, the logits agree but the gradients do not; the first parameter (in network order) whose gradient differs is ${firstGrad}`;
  }
  return `on ${backend}, the logits differ${firstGrad ? `; the first parameter whose gradient differs is ${firstGrad}` : ''}`;
}

/** The same data with the inputs cycled to `rows` rows (labels likewise). */
function withBatch(data: CheckData, rows: number): CheckData {
  const [b, ...rest] = data.inputs.shape;
  const per = data.inputs.values.length / b;
  const values = new Float32Array(rows * per);
  for (let i = 0; i < rows; i++)
    values.set(data.inputs.values.subarray((i % b) * per, ((i % b) + 1) * per), i * per);
  return {
    reference: data.reference,
    inputs: { shape: [rows, ...rest], values },
    labels: Int32Array.from({ length: rows }, (_, i) => data.labels[i % b]),
  };
}

/**
 * The seed's trap: splitting [reference; inputs] by the batch size (`shape[0] // 2`) is right only
 * when B = N. When the logits differ at B != N, run both with B = N: if they then agree, the
 * split is the cause. `suspect` names the side the float64 network disagrees with, if known.
 */
export async function probeSplit(
  a: AnyImplementation,
  b: AnyImplementation,
  params: Record<string, ParamValues>,
  data: CheckData,
  tol: Tolerance,
  suspect: AnyImplementation | null,
): Promise<string | null> {
  const n = data.reference.shape[0];
  const batch = data.inputs.shape[0];
  if (n === batch) return null;
  const same = withBatch(data, n);
  const la = await logitsOnly(a, params, same);
  const lb = await logitsOnly(b, params, same);
  if (!compare('logits', la, lb, tol).ok) return null;
  const who = suspect ? suspect.name : 'one implementation';
  return `with batch = reference size (${n}) the logits agree, with batch ${batch} they do not: ${who} splits [reference; inputs] at the wrong row (a split by the batch size, such as shape[0] // 2, is right only when B = N)`;
}
