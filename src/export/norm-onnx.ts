import type * as tf from '@tensorflow/tfjs-core';
import type { ReferenceStatistics } from '../vbn/statistics.js';
import type { OnnxGraph } from './onnx-graph.js';

/** A block's reference statistics as plain numbers, frozen into the graph: each `[C]`. */
export interface FrozenStatistics {
  pivot: Float32Array;
  offset: Float32Array;
  variance: Float32Array;
}

/** Per-channel scale and offset `[C]` and the epsilon of one norm layer. */
export interface FrozenAffine {
  gamma: Float32Array;
  beta: Float32Array;
  epsilon: number;
}

const floats = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync());

export function freezeStatistics(stats: ReferenceStatistics): FrozenStatistics {
  return {
    pivot: floats(stats.pivot),
    offset: floats(stats.offset),
    variance: floats(stats.variance),
  };
}

export function freezeAffine(gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): FrozenAffine {
  return { gamma: floats(gamma), beta: floats(beta), epsilon };
}

/** A per-channel vector as a `[1, C, 1, 1]` constant: it broadcasts over NCHW activations. */
function perChannel(g: OnnxGraph, name: string, values: Float32Array): string {
  return g.constant(name, values, [1, values.length, 1, 1]);
}

/** gamma * centred / sqrt(variance + eps) + beta, then ReLU; `variance` `[B or 1, C, 1, 1]`. */
function scaleShiftRelu(
  g: OnnxGraph,
  p: string,
  centred: string,
  variance: string,
  a: FrozenAffine,
): string {
  const eps = g.constant(`${p}/epsilon`, [a.epsilon], []);
  const inv = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, eps])])]);
  const scaled = g.node('Mul', [
    g.node('Mul', [centred, inv]),
    perChannel(g, `${p}/gamma`, a.gamma),
  ]);
  return g.node(
    'Relu',
    [g.node('Add', [scaled, perChannel(g, `${p}/beta`, a.beta)])],
    {},
    `${p}/relu`,
  );
}

/**
 * ReLU(VBN(y)) for `y` `[B, C, h, w]` against frozen reference statistics, as vbn's
 * normalizeWithWeight computes it, per example and channel (w = 1/(N+1) in virtual mode, 0 in
 * reference mode), centred on the reference mean so that large offsets stay accurate:
 *   d = (y - pivot) - offset,  dm = mean_hw(d),  v = mean_hw((d - dm)^2)
 *   centred = d - w dm,  variance = w v + (1 - w) var_R + w (1 - w) dm^2
 * Every reduction is over one example's own h and w (GlobalAveragePool: onnxruntime reduces each
 * [h, w] plane alone, so a row's bits do not depend on the batch; its ReduceMean over axes [2, 3]
 * gave different last bits for a row alone and in a batch of 9).
 */
export function vbnRelu(
  g: OnnxGraph,
  p: string,
  y: string,
  stats: FrozenStatistics,
  weight: number,
  a: FrozenAffine,
): string {
  const shifted = g.node('Sub', [y, perChannel(g, `${p}/pivot`, stats.pivot)]);
  const d = g.node('Sub', [shifted, perChannel(g, `${p}/offset`, stats.offset)]);
  if (weight === 0) {
    return scaleShiftRelu(g, p, d, perChannel(g, `${p}/variance`, stats.variance), a);
  }
  const w = g.constant(`${p}/w`, [weight], []);
  const mixedVariance = Float32Array.from(stats.variance, (v) => Math.fround(1 - weight) * v);
  const dm = g.node('GlobalAveragePool', [d]);
  const e = g.node('Sub', [d, dm]);
  const v = g.node('GlobalAveragePool', [g.node('Mul', [e, e])]);
  const centred = g.node('Sub', [d, g.node('Mul', [w, dm])]);
  const w1w = g.constant(`${p}/w(1-w)`, [weight * (1 - weight)], []);
  const variance = g.node('Add', [
    g.node('Add', [g.node('Mul', [w, v]), perChannel(g, `${p}/(1-w)variance`, mixedVariance)]),
    g.node('Mul', [w1w, g.node('Mul', [dm, dm])]),
  ]);
  return scaleShiftRelu(g, p, centred, variance, a);
}

/**
 * ReLU(batch norm(y)) for `y` `[B, C, h, w]` with the batch's own statistics, as vbn's 'bn'
 * generator ran in training (pivot, offset and variance as referenceStatistics computes them):
 * every row's output depends on the whole batch.
 */
export function batchNormRelu(g: OnnxGraph, p: string, y: string, a: FrozenAffine): string {
  const axes = { axes: [0, 2, 3], keepdims: 1 };
  const shifted = g.node('Sub', [y, g.node('ReduceMean', [y], axes)]);
  const d = g.node('Sub', [shifted, g.node('ReduceMean', [shifted], axes)]);
  const variance = g.node('ReduceMean', [g.node('Mul', [d, d])], axes);
  return scaleShiftRelu(g, p, d, variance, a);
}
