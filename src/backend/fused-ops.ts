import * as tf from '@tensorflow/tfjs-core';

/**
 * Fused VBN ops. Their kernels exist only on the `native` backend (src/backend/native.ts); the
 * composed ops in src/vbn stay the reference on every backend. Shapes: channels last, any rank,
 * seen as [rows, S, C].
 *
 * - VbnStats(x [N, ..., C]) -> hi [C], lo [C], variance [C]: the mean as a float pair hi + lo
 *   (precise when features have a large offset) and the biased variance, accumulated in double.
 * - VbnNormalize(x [B, ..., C], hi, lo, variance, gamma, beta, rowWeights [B]) -> out, rowStats:
 *   rows with weight 0 use the reference statistics, rows with weight 1/(N+1) the virtual ones;
 *   ReLU fused when attrs.relu.
 * - SpatialMean(x [B, ..., C]) -> [B, C].
 * Gradients are registered here; the gradient kernels are native too.
 */
export const FUSED_KERNELS = ['VbnStats', 'VbnNormalize', 'SpatialMean'] as const;

/** Whether the active backend has the fused kernels. */
export function fusedKernelsAvailable(): boolean {
  return tf.getKernel('VbnNormalize', tf.getBackend()) !== undefined;
}

export function vbnStatsOp(x: tf.Tensor): {
  hi: tf.Tensor1D;
  lo: tf.Tensor1D;
  variance: tf.Tensor1D;
} {
  const [hi, lo, variance] = tf.engine().runKernel('VbnStats', { x }, {}) as tf.Tensor1D[];
  return { hi, lo, variance };
}

export function vbnNormalizeOp(
  x: tf.Tensor,
  hi: tf.Tensor,
  lo: tf.Tensor,
  variance: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  rowWeights: tf.Tensor1D,
  epsilon: number,
  relu: boolean,
): tf.Tensor {
  const [out] = tf
    .engine()
    .runKernel(
      'VbnNormalize',
      { x, hi, lo, variance, gamma, beta, rowWeights },
      { epsilon, relu },
    ) as tf.Tensor[];
  return out;
}

export function spatialMeanOp(x: tf.Tensor): tf.Tensor2D {
  return tf.engine().runKernel('SpatialMean', { x }, {}) as tf.Tensor2D;
}

let gradientsRegistered = false;

/** Registers the gradients of the fused ops (idempotent). */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: 'VbnStats',
    inputsToSave: ['x'],
    outputsToSave: [true, true, false],
    gradFunc: (dy, saved) => {
      const [dHi, dLo, dVar] = dy as tf.Tensor[];
      const [x, hi, lo] = saved;
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              'VbnStatsGrad',
              { x, hi, lo, dMean: tf.add(dHi, dLo), dVar },
              {},
            ) as tf.Tensor,
      };
    },
  });
  tf.registerGradient({
    kernelName: 'VbnNormalize',
    inputsToSave: ['x', 'hi', 'lo', 'gamma', 'rowWeights'],
    outputsToSave: [true, true],
    gradFunc: (dy, saved, attrs) => {
      const [x, hi, lo, gamma, rowWeights, out, rowStats] = saved;
      const [dx, dMean, dVar, dGamma, dBeta] = tf
        .engine()
        .runKernel(
          'VbnNormalizeGrad',
          { dy: (dy as tf.Tensor[])[0], x, out, hi, lo, gamma, rowWeights, rowStats },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      return {
        x: () => dx,
        hi: () => dMean,
        lo: () => tf.zerosLike(lo),
        variance: () => dVar,
        gamma: () => dGamma,
        beta: () => dBeta,
        rowWeights: () => tf.zerosLike(rowWeights),
      };
    },
  });
  tf.registerGradient({
    kernelName: 'SpatialMean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return {
        x: () =>
          tf.engine().runKernel('SpatialMeanGrad', { dy: dy as tf.Tensor, x }, {}) as tf.Tensor,
      };
    },
  });
}
