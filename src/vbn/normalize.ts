import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';
import { NORMALIZE_DEFAULTS, VBN_MODES, type NormalizeOptions, type VbnMode } from './options.js';
import { axesExcept, channelShape, type ReferenceStatistics } from './statistics.js';
import {
  checkFloat,
  checkOneOf,
  checkPerChannel,
  checkPositive,
  checkRank,
  resolveAxes,
} from './validate.js';

/**
 * The one place where VBN normalizes. `weight` is how much each example's own statistics count:
 * 0 = reference statistics only (reference rows, or `reference` mode); 1/(N+1) = `virtual` mode.
 * A tensor weight (shape [B] broadcast along `batchAxis`) mixes both in one batch, which is how the
 * one-pass (`concat`) layout normalizes [reference; inputs] in a single call.
 *
 * With d = x - mean_R (computed as (x - pivot) - offset), per example i and channel c:
 *   dm_i = mean(d_i), v_i = mean((d_i - dm_i)^2)       over the example's non-channel axes
 *   x - mu_i = d - w*dm_i
 *   var_i    = w*v_i + (1-w)*var_R + w*(1-w)*dm_i^2     (Chan's parallel variance: no cancellation)
 *   out      = gamma * (x - mu_i) / sqrt(var_i + eps) + beta
 * These equal the moments of R with x_i appended when w = 1/(N+1).
 */
export function normalizeWithWeight(
  x: tf.Tensor,
  stats: ReferenceStatistics,
  weight: number | tf.Tensor,
  axis: number,
  batchAxis: number,
  epsilon: number,
  gamma?: tf.Tensor,
  beta?: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const bshape = channelShape(x.rank, axis, stats.channels);
    const d = tf.sub(tf.sub(x, tf.reshape(stats.pivot, bshape)), tf.reshape(stats.offset, bshape));
    const varR = tf.reshape(stats.variance, bshape);
    let centred: tf.Tensor;
    let variance: tf.Tensor;
    if (typeof weight === 'number' && weight === 0) {
      centred = d;
      variance = varR;
    } else {
      const w = typeof weight === 'number' ? tf.scalar(weight) : weight;
      const own = axesExcept(x.rank, axis, batchAxis);
      const dm = own.length > 0 ? tf.mean(d, own, true) : d;
      const v = own.length > 0 ? tf.mean(tf.square(tf.sub(d, dm)), own, true) : tf.zerosLike(d);
      const oneMinusW = tf.sub(1, w);
      centred = tf.sub(d, tf.mul(w, dm));
      variance = tf.add(
        tf.add(tf.mul(w, v), tf.mul(oneMinusW, varR)),
        tf.mul(tf.mul(w, oneMinusW), tf.square(dm)),
      );
    }
    let out = tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
    if (gamma) out = tf.mul(out, tf.reshape(gamma, bshape));
    if (beta) out = tf.add(out, tf.reshape(beta, bshape));
    return out;
  });
}

/** Weight of one example's own statistics in `virtual` mode for a reference of size N. */
export function virtualWeight(mode: VbnMode, referenceSize: number): number {
  return mode === 'virtual' ? 1 / (referenceSize + 1) : 0;
}

/**
 * Virtual mode weighs an example's own statistics 1/(N+1), which assumes it has as many values per
 * channel as each reference example: its non-batch, non-channel shape must equal the reference's.
 */
function checkExampleShape(
  fn: string,
  x: tf.Tensor,
  axis: number,
  batchAxis: number,
  stats: ReferenceStatistics,
): void {
  const own = (shape: readonly number[], a: number, b: number) =>
    shape.filter((_, i) => i !== a && i !== b);
  const xs = own(x.shape, axis, batchAxis);
  const rs = own(stats.referenceShape, stats.axis, stats.batchAxis);
  if (xs.join(',') !== rs.join(',')) {
    throw new VbnError(
      `${fn}: virtual mode needs each example's non-batch, non-channel shape to equal the reference's, but x has ${shapeString(xs)} and the reference ${shapeString(rs)} (x shape ${shapeString(x.shape)}, reference shape ${shapeString(stats.referenceShape)}); mode 'reference' accepts any`,
    );
  }
}

interface Resolved {
  axis: number;
  batchAxis: number;
  epsilon: number;
  mode: VbnMode;
}

function resolveNormalize(
  fn: string,
  x: tf.Tensor,
  stats: ReferenceStatistics,
  options: NormalizeOptions,
): Resolved {
  checkFloat(fn, 'x', x);
  checkRank(fn, 'x', x);
  const refRank = stats.referenceShape.length;
  if (x.rank !== refRank) {
    throw new VbnError(
      `${fn}: x has rank ${x.rank} but the reference has rank ${refRank} (x shape ${shapeString(x.shape)}, reference shape ${shapeString(stats.referenceShape)})`,
    );
  }
  const mode = checkOneOf(fn, 'mode', options.mode ?? NORMALIZE_DEFAULTS.mode, VBN_MODES);
  const epsilon = checkPositive(fn, 'epsilon', options.epsilon ?? NORMALIZE_DEFAULTS.epsilon);
  const { axis, batchAxis } = resolveAxes(
    fn,
    options.axis ?? stats.axis,
    options.batchAxis ?? stats.batchAxis,
    x,
  );
  if (x.shape[axis] !== stats.channels) {
    throw new VbnError(
      `${fn}: channel axis ${axis} has ${x.shape[axis]} channels but the reference has ${stats.channels} (x shape ${shapeString(x.shape)}, reference shape ${shapeString(stats.referenceShape)})`,
    );
  }
  if (mode === 'virtual') checkExampleShape(fn, x, axis, batchAxis, stats);
  checkPerChannel(fn, 'gamma', options.gamma, stats.channels);
  checkPerChannel(fn, 'beta', options.beta, stats.channels);
  return { axis, batchAxis, epsilon, mode };
}

/**
 * Normalizes new examples `x` (e.g. `[B, H, W, C]`) against reference statistics.
 * Each example's output depends only on itself and the reference, never on its minibatch.
 * Gradients reach the reference through `stats` unless they were made with
 * `stopReferenceGradient`.
 */
export function virtualBatchNorm(
  x: tf.Tensor,
  stats: ReferenceStatistics,
  options: NormalizeOptions = {},
): tf.Tensor {
  const r = resolveNormalize('virtualBatchNorm', x, stats, options);
  const w = virtualWeight(r.mode, stats.size);
  return normalizeWithWeight(
    x,
    stats,
    w,
    r.axis,
    r.batchAxis,
    r.epsilon,
    options.gamma,
    options.beta,
  );
}

/**
 * The reference batch normalized with its own statistics: ordinary batch normalization of R,
 * the same in both modes. `options.mode` is ignored.
 */
export function referenceBatchNorm(
  reference: tf.Tensor,
  stats: ReferenceStatistics,
  options: Omit<NormalizeOptions, 'mode'> = {},
): tf.Tensor {
  const r = resolveNormalize('referenceBatchNorm', reference, stats, {
    ...options,
    mode: 'reference',
  });
  return normalizeWithWeight(
    reference,
    stats,
    0,
    r.axis,
    r.batchAxis,
    r.epsilon,
    options.gamma,
    options.beta,
  );
}
