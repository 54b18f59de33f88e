import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';
import type { NormalizeOptions, StatisticsOptions } from './options.js';
import { normalizeWithWeight, virtualWeight } from './normalize.js';
import { NORMALIZE_DEFAULTS, STATISTICS_DEFAULTS, VBN_MODES } from './options.js';
import { referenceStatistics } from './statistics.js';
import { checkOneOf, checkPositive, resolveAxes } from './validate.js';

export interface ConcatenatedOptions extends Omit<NormalizeOptions, 'axis' | 'batchAxis'> {
  /** Channel axis; negative counts from the end. Default -1. */
  axis?: number;
  /** Batch axis along which the reference rows come first. Default 0. */
  batchAxis?: number;
  /** See StatisticsOptions.stopReferenceGradient. Default false. */
  stopReferenceGradient?: StatisticsOptions['stopReferenceGradient'];
}

/**
 * One-pass VBN over a batch laid out as [reference; inputs] along the batch axis (the seed's
 * `concat` layout): statistics come from the first `referenceSize` rows, which are batch-normalized
 * with them; the remaining rows (any number, 0 included) are normalized in `options.mode`.
 * `x`: e.g. `[N + B, H, W, C]`. Returns the same shape.
 */
export function virtualBatchNormConcatenated(
  x: tf.Tensor,
  referenceSize: number,
  options: ConcatenatedOptions = {},
): tf.Tensor {
  const fn = 'virtualBatchNormConcatenated';
  const { axis, batchAxis } = resolveAxes(
    fn,
    options.axis ?? STATISTICS_DEFAULTS.axis,
    options.batchAxis ?? STATISTICS_DEFAULTS.batchAxis,
    x,
  );
  const mode = checkOneOf(fn, 'mode', options.mode ?? NORMALIZE_DEFAULTS.mode, VBN_MODES);
  const epsilon = checkPositive(fn, 'epsilon', options.epsilon ?? NORMALIZE_DEFAULTS.epsilon);
  const rows = x.shape[batchAxis];
  if (!Number.isInteger(referenceSize) || referenceSize < 1 || referenceSize > rows) {
    throw new VbnError(
      `${fn}: referenceSize ${referenceSize} must be an integer in [1, ${rows}] (the batch holds the reference in its first rows; x shape ${shapeString(x.shape)})`,
    );
  }
  return tf.tidy(() => {
    const begin = new Array<number>(x.rank).fill(0);
    const size = [...x.shape];
    size[batchAxis] = referenceSize;
    const stats = referenceStatistics(tf.slice(x, begin, size), {
      axis,
      batchAxis,
      stopReferenceGradient: options.stopReferenceGradient ?? false,
    });
    const w = virtualWeight(mode, referenceSize);
    let weight: number | tf.Tensor = 0;
    if (w !== 0 && rows > referenceSize) {
      const perRow = new Float32Array(rows);
      perRow.fill(w, referenceSize);
      const wshape = new Array<number>(x.rank).fill(1);
      wshape[batchAxis] = rows;
      weight = tf.tensor(perRow, wshape);
    }
    return normalizeWithWeight(
      x,
      stats,
      weight,
      axis,
      batchAxis,
      epsilon,
      options.gamma,
      options.beta,
    );
  });
}
