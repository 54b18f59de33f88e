import type { NodeTensor, Tape } from './tape.js';

/** Mean softmax cross-entropy of logits `[B, K]` against integer labels, in float64 on the tape. */
export function softmaxCrossEntropy64(
  t: Tape,
  logits: NodeTensor,
  labels: ArrayLike<number>,
): number {
  const [b, k] = logits.shape;
  const perExample: number[] = [];
  for (let n = 0; n < b; n++) {
    const row = logits.ids.slice(n * k, (n + 1) * k);
    const max = t.leaf(Math.max(...row.map((id) => t.value(id)))); // a constant shift
    const lse = t.add(t.log(t.sum(row.map((id) => t.exp(t.sub(id, max))))), max);
    perExample.push(t.sub(lse, row[labels[n]]));
  }
  return t.mean(perExample);
}
