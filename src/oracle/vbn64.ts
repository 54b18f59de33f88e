import { type NodeTensor, type Tape, stridesOf } from './tape.js';

/**
 * VBN in float64 on the tape, written from the definition (Salimans et al. 2016, section 3.4:
 * normalize with the statistics of the reference batch plus the example), not from the
 * TensorFlow.js code: virtual statistics are the plain two-pass moments of the reference's
 * values in a channel with the example's values appended.
 */
export interface Vbn64Options {
  /** 'virtual' or 'reference'. */
  mode: 'virtual' | 'reference';
  /** Channel axis, non-negative. */
  axis: number;
  /** Batch axis, non-negative. */
  batchAxis: number;
  epsilon: number;
  /** Reference values enter the statistics detached (no gradient through them). */
  stopReferenceGradient: boolean;
  /** Per-channel scale nodes, or none. */
  gamma?: number[];
  /** Per-channel offset nodes, or none. */
  beta?: number[];
}

/** Node ids grouped by [batch index][channel index]. */
function groups(x: NodeTensor, axis: number, batchAxis: number): number[][][] {
  const strides = stridesOf(x.shape);
  const out: number[][][] = [];
  for (let b = 0; b < x.shape[batchAxis]; b++) {
    out.push(Array.from({ length: x.shape[axis] }, () => [] as number[]));
  }
  x.ids.forEach((id, flat) => {
    const b = Math.floor(flat / strides[batchAxis]) % x.shape[batchAxis];
    const c = Math.floor(flat / strides[axis]) % x.shape[axis];
    out[b][c].push(id);
  });
  return out;
}

/** Two-pass mean and biased variance of a list of nodes. */
export function moments64(t: Tape, xs: readonly number[]): { mean: number; variance: number } {
  const mean = t.mean(xs);
  const variance = t.mean(
    xs.map((v) => {
      const d = t.sub(v, mean);
      return t.mul(d, d);
    }),
  );
  return { mean, variance };
}

function normalize(
  t: Tape,
  v: number,
  mean: number,
  variance: number,
  c: number,
  o: Vbn64Options,
): number {
  let y = t.div(t.sub(v, mean), t.sqrt(t.shift(variance, o.epsilon)));
  if (o.gamma) y = t.mul(y, o.gamma[c]);
  if (o.beta) y = t.add(y, o.beta[c]);
  return y;
}

/** Per channel: the reference's values (detached when the option asks). */
function referenceByChannel(t: Tape, ref: NodeTensor, o: Vbn64Options): number[][] {
  const g = groups(ref, o.axis, o.batchAxis);
  return g[0].map((_, c) => {
    const all = g.flatMap((byChannel) => byChannel[c]);
    return o.stopReferenceGradient ? all.map((id) => t.detach(id)) : all;
  });
}

/** Batch normalization of the reference with its own statistics. */
export function referenceBatchNorm64(t: Tape, ref: NodeTensor, o: Vbn64Options): NodeTensor {
  const byChannel = referenceByChannel(t, ref, o);
  const stats = byChannel.map((vs) => moments64(t, vs));
  const strides = stridesOf(ref.shape);
  const ids = ref.ids.map((id, flat) => {
    const c = Math.floor(flat / strides[o.axis]) % ref.shape[o.axis];
    return normalize(t, id, stats[c].mean, stats[c].variance, c, o);
  });
  return { shape: [...ref.shape], ids };
}

/** New examples x normalized against ref, per example, per channel. */
export function virtualBatchNorm64(
  t: Tape,
  x: NodeTensor,
  ref: NodeTensor,
  o: Vbn64Options,
): NodeTensor {
  const refByChannel = referenceByChannel(t, ref, o);
  const refStats = refByChannel.map((vs) => moments64(t, vs));
  const xGroups = groups(x, o.axis, o.batchAxis);
  const stats = xGroups.map((byChannel) =>
    byChannel.map((vs, c) =>
      o.mode === 'virtual' ? moments64(t, [...refByChannel[c], ...vs]) : refStats[c],
    ),
  );
  const strides = stridesOf(x.shape);
  const ids = x.ids.map((id, flat) => {
    const b = Math.floor(flat / strides[o.batchAxis]) % x.shape[o.batchAxis];
    const c = Math.floor(flat / strides[o.axis]) % x.shape[o.axis];
    return normalize(t, id, stats[b][c].mean, stats[b][c].variance, c, o);
  });
  return { shape: [...x.shape], ids };
}
