import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';
import {
  fusedKernelsAvailable,
  spatialMeanOp,
  vbnLayerOp,
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
  /** Statistics of the first `rows` rows of `y` `[>= N, h, w, C]` (the reference activations). */
  stats(y: tf.Tensor4D, stopReferenceGradient: boolean, rows: number): ReferenceStatistics;
  /** ReLU(VBN(y)) for `y` `[B, h, w, C]`; `rowWeights[b]` is row b's own weight (0 or 1/(N+1)). */
  normalizeRelu(
    y: tf.Tensor4D,
    stats: ReferenceStatistics,
    rowWeights: number[],
    affine: Affine,
  ): tf.Tensor4D;
  /** stats of the first `rows` rows, then normalizeRelu of every row: one fused op on native. */
  layer(
    y: tf.Tensor4D,
    stopReferenceGradient: boolean,
    rows: number,
    rowWeights: number[],
    affine: Affine,
  ): { out: tf.Tensor4D; stats: ReferenceStatistics };
  /** Mean over h and w of rows fromRow..: `[B, h, w, C]` -> `[B - fromRow, C]`. */
  pool(x: tf.Tensor4D, fromRow: number): tf.Tensor2D;
}

const composed: BlockOps = {
  kind: 'composed',
  layer(y, stop, rows, rowWeights, affine) {
    const stats = composed.stats(y, stop, rows);
    return { stats, out: composed.normalizeRelu(y, stats, rowWeights, affine) };
  },
  stats: (y, stop, rows) =>
    referenceStatistics(rows === y.shape[0] ? y : tf.slice(y, [0, 0, 0, 0], [rows, -1, -1, -1]), {
      stopReferenceGradient: stop,
    }),
  normalizeRelu(y, stats, rowWeights, { gamma, beta, epsilon }) {
    const same = rowWeights.every((w) => w === rowWeights[0]);
    const weight = same ? rowWeights[0] : tf.tensor(rowWeights, [rowWeights.length, 1, 1, 1]);
    return tf.relu(
      normalizeWithWeight(y, stats, weight, 3, 0, epsilon, gamma, beta),
    ) as tf.Tensor4D;
  },
  pool: (x, fromRow) =>
    tf.mean(
      fromRow === 0 ? x : tf.slice(x, [fromRow, 0, 0, 0], [-1, -1, -1, -1]),
      [1, 2],
    ) as tf.Tensor2D,
};

function fusedStatistics(
  y: tf.Tensor4D,
  rows: number,
  hi: tf.Tensor1D,
  lo: tf.Tensor1D,
  variance: tf.Tensor1D,
  stop: boolean,
): ReferenceStatistics {
  if (stop) [hi, lo, variance] = [stopGradient(hi), stopGradient(lo), stopGradient(variance)];
  const mean = tf.add(hi, lo) as tf.Tensor1D;
  return {
    mean,
    variance,
    meanOfSquares: tf.add(variance, tf.square(mean)) as tf.Tensor1D,
    pivot: hi,
    offset: lo,
    size: rows,
    channels: y.shape[3],
    axis: 3,
    batchAxis: 0,
    referenceShape: [rows, y.shape[1], y.shape[2], y.shape[3]],
  };
}

const fused: BlockOps = {
  kind: 'fused',
  layer(y, stop, rows, rowWeights, { gamma, beta, epsilon }) {
    const r = vbnLayerOp(y, rows, gamma, beta, tf.tensor1d(rowWeights), epsilon, stop);
    return {
      out: r.out as tf.Tensor4D,
      stats: fusedStatistics(y, rows, r.hi, r.lo, r.variance, stop),
    };
  },
  stats(y, stop, rows) {
    const { hi, lo, variance } = vbnStatsOp(y, rows);
    return fusedStatistics(y, rows, hi, lo, variance, stop);
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
  pool: (x, fromRow) => spatialMeanOp(x, fromRow),
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
