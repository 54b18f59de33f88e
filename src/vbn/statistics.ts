import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';
import { STATISTICS_DEFAULTS, type StatisticsOptions } from './options.js';
import { stopGradient } from './stop-gradient.js';
import { checkFloat, checkRank, resolveAxes } from './validate.js';

/**
 * Per-channel statistics of a reference batch R (N examples).
 *
 * Numerics: the mean is kept as `pivot + offset`, where `pivot` is the plain float32 mean
 * (a constant for differentiation) and `offset = mean(R - pivot)` is a small correction.
 * Normalization subtracts `pivot` then `offset`, so features with a large mean relative to their
 * spread (mean 1e4, std 1) keep their precision; `variance` is computed from centred values,
 * never as E[R^2] - E[R]^2.
 */
export interface ReferenceStatistics {
  /** Per-channel mean of R, [C] (= pivot + offset). */
  mean: tf.Tensor1D;
  /** Per-channel biased variance of R, [C]. */
  variance: tf.Tensor1D;
  /** Per-channel mean of squares E[R^2], [C] (informative; normalization does not use it). */
  meanOfSquares: tf.Tensor1D;
  /** Per-channel float32 approximation of the mean, [C]; carries no gradient. */
  pivot: tf.Tensor1D;
  /** mean - pivot, [C]; small, carries the gradient of the mean. */
  offset: tf.Tensor1D;
  /** N, the number of reference examples. */
  size: number;
  /** C, the number of channels. */
  channels: number;
  /** Channel axis (non-negative) in the reference's layout. */
  axis: number;
  /** Batch axis (non-negative) in the reference's layout. */
  batchAxis: number;
  /** Shape of the reference the statistics came from (for error messages). */
  referenceShape: number[];
}

/** Reduces every axis except `keep`. */
export function axesExcept(rank: number, ...keep: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rank; i++) if (!keep.includes(i)) out.push(i);
  return out;
}

/** Shape that broadcasts a [C] vector along `axis` of a rank-`rank` tensor. */
export function channelShape(rank: number, axis: number, channels: number): number[] {
  const s = new Array<number>(rank).fill(1);
  s[axis] = channels;
  return s;
}

/**
 * Statistics of a reference batch `reference` (for example `[N, H, W, C]`), per channel.
 * Differentiable w.r.t. the reference unless `stopReferenceGradient` is set.
 */
export function referenceStatistics(
  reference: tf.Tensor,
  options: StatisticsOptions = {},
): ReferenceStatistics {
  const fn = 'referenceStatistics';
  const opts = { ...STATISTICS_DEFAULTS, ...options };
  checkFloat(fn, 'reference', reference);
  checkRank(fn, 'reference', reference);
  const { axis, batchAxis } = resolveAxes(fn, opts.axis, opts.batchAxis, reference);
  const size = reference.shape[batchAxis];
  if (reference.size === 0 || size === 0) {
    throw new VbnError(
      `${fn}: the reference is empty (shape ${shapeString(reference.shape)}); it needs at least one example with at least one value per channel`,
    );
  }
  const channels = reference.shape[axis];
  const reduce = axesExcept(reference.rank, axis);
  const bshape = channelShape(reference.rank, axis, channels);
  const t = tf.tidy(() => {
    const pivot = stopGradient(tf.mean(reference, reduce)) as tf.Tensor1D;
    const shifted = tf.sub(reference, tf.reshape(pivot, bshape));
    let offset = tf.mean(shifted, reduce) as tf.Tensor1D;
    let variance = tf.mean(
      tf.square(tf.sub(shifted, tf.reshape(offset, bshape))),
      reduce,
    ) as tf.Tensor1D;
    if (opts.stopReferenceGradient) {
      offset = stopGradient(offset);
      variance = stopGradient(variance);
    }
    const mean = tf.add(pivot, offset) as tf.Tensor1D;
    const meanOfSquares = tf.add(variance, tf.square(mean)) as tf.Tensor1D;
    return { mean, variance, meanOfSquares, pivot, offset };
  });
  return { ...t, size, channels, axis, batchAxis, referenceShape: [...reference.shape] };
}

/** Disposes the tensors held by a statistics object. */
export function disposeStatistics(stats: ReferenceStatistics): void {
  tf.dispose([stats.mean, stats.variance, stats.meanOfSquares, stats.pivot, stats.offset]);
}
