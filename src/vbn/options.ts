import type * as tf from '@tensorflow/tfjs-core';

/**
 * `virtual`: each new example is normalized with the statistics of the reference batch plus
 * itself (weight 1/(N+1)), as in the paper and TF-GAN. `reference`: the reference statistics
 * alone, as in the seed's code.
 */
export type VbnMode = 'virtual' | 'reference';
export const VBN_MODES: readonly VbnMode[] = ['virtual', 'reference'];

export interface StatisticsOptions {
  /** Channel axis; negative counts from the end. Default -1 (channels last). */
  axis?: number;
  /** Batch axis of the reference. Default 0. */
  batchAxis?: number;
  /**
   * Treat the statistics as constants for differentiation. Default false: gradients flow
   * through the statistics into the reference (TF-GAN, improved-gan and the seed do this).
   */
  stopReferenceGradient?: boolean;
}

export interface NormalizeOptions {
  /** How new examples are normalized. Default 'virtual'. */
  mode?: VbnMode;
  /** Channel axis of x; negative counts from the end. Default: the axis the statistics used. */
  axis?: number;
  /** Batch axis of x. Default: the batch axis the statistics used. */
  batchAxis?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  epsilon?: number;
  /** Per-channel scale, shape [C]. Default: none (1). */
  gamma?: tf.Tensor;
  /** Per-channel offset, shape [C]. Default: none (0). */
  beta?: tf.Tensor;
}

export const DEFAULT_EPSILON = 1e-5;

export const STATISTICS_DEFAULTS = {
  axis: -1,
  batchAxis: 0,
  stopReferenceGradient: false,
} as const satisfies Required<StatisticsOptions>;

export const NORMALIZE_DEFAULTS = {
  mode: 'virtual' as VbnMode,
  epsilon: DEFAULT_EPSILON,
};
