import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';
import {
  fusedKernelsAvailable,
  spatialMeanOp,
  vbnNormalizeOp,
  vbnStatsOp,
} from '../backend/fused-ops.js';
import { normalizeWithWeight } from '../vbn/normalize.js';
import { referenceStatistics, type ReferenceStatistics } from '../vbn/statistics.js';
import { stopGradient } from '../vbn/stop-gradient.js';

/**
 * The three things a network block needs from VBN, in two implementations:
 * 'composed' (TensorFlow.js ops; every backend; the reference) and 'fused' (native kernels with
 * ReLU fused). 'auto' takes 'fused' when the active backend has the kernels.
 */
export type Kernels = 'auto' | 'composed' | 'fused';
export const KERNELS: readonly Kernels[] = ['auto', 'composed', 'fused'];

export interface Affine {
  gamma: tf.Tensor;
  beta: tf.Tensor;
  epsilon: number;
}

export interface BlockOps {
  kind: 'composed' | 'fused';
  /** Statistics of reference activations `[N, h, w, C]`. */
  stats(y: tf.Tensor4D, stopReferenceGradient: boolean): ReferenceStatistics;
  /** ReLU(VBN(y)) for `y` `[B, h, w, C]`; `rowWeights[b]` is row b's own weight (0 or 1/(N+1)). */
  normalizeRelu(
    y: tf.Tensor4D,
    stats: ReferenceStatistics,
    rowWeights: number[],
    affine: Affine,
  ): tf.Tensor4D;
  /** Mean over h and w: `[B, h, w, C]` -> `[B, C]`. */
  pool(x: tf.Tensor4D): tf.Tensor2D;
}

const composed: BlockOps = {
  kind: 'composed',
  stats: (y, stop) => referenceStatistics(y, { stopReferenceGradient: stop }),
  normalizeRelu(y, stats, rowWeights, { gamma, beta, epsilon }) {
    const same = rowWeights.every((w) => w === rowWeights[0]);
    const weight = same ? rowWeights[0] : tf.tensor(rowWeights, [rowWeights.length, 1, 1, 1]);
    return tf.relu(
      normalizeWithWeight(y, stats, weight, 3, 0, epsilon, gamma, beta),
    ) as tf.Tensor4D;
  },
  pool: (x) => tf.mean(x, [1, 2]) as tf.Tensor2D,
};

const fused: BlockOps = {
  kind: 'fused',
  stats(y, stop) {
    let { hi, lo, variance } = vbnStatsOp(y);
    if (stop) [hi, lo, variance] = [stopGradient(hi), stopGradient(lo), stopGradient(variance)];
    const mean = tf.add(hi, lo) as tf.Tensor1D;
    return {
      mean,
      variance,
      meanOfSquares: tf.add(variance, tf.square(mean)) as tf.Tensor1D,
      pivot: hi,
      offset: lo,
      size: y.shape[0],
      channels: y.shape[3],
      axis: 3,
      batchAxis: 0,
      referenceShape: [...y.shape],
    };
  },
  normalizeRelu: (y, stats, rowWeights, { gamma, beta, epsilon }) =>
    vbnNormalizeOp(
      y,
      stats.pivot,
      stats.offset,
      stats.variance,
      gamma,
      beta,
      tf.tensor1d(rowWeights),
      epsilon,
      true,
    ) as tf.Tensor4D,
  pool: (x) => spatialMeanOp(x),
};

/** The ops for a `kernels` choice on the active backend. */
export function blockOps(kernels: Kernels): BlockOps {
  if (kernels === 'composed') return composed;
  const available = fusedKernelsAvailable();
  if (kernels === 'fused' && !available) {
    throw new VbnError(
      `kernels 'fused' need the native backend (active backend: ${tf.getBackend()})`,
    );
  }
  return available ? fused : composed;
}
