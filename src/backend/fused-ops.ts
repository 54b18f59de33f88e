import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';
import {
  checkBoolean,
  checkFloat,
  checkIntegerIn,
  checkNonEmpty,
  checkPositive,
  checkRank,
  checkVector,
} from '../vbn/validate.js';
import * as K from './kernel-names.js';
import { FUSED_KERNEL_NAMES, runFused } from './kernel-names.js';

/**
 * Fused VBN ops. Their kernels (names, inputs, attributes: kernel-names.ts) exist only on the
 * `native` backend (src/backend/node/vbn-kernels.ts); the composed ops in src/vbn stay the
 * reference on every backend. Shapes: channels last, any rank, seen as [rows, S, C].
 *
 * - VbnStats(x [N, ..., C]) -> hi [C], lo [C], variance [C]: the mean as a float pair hi + lo
 *   (precise when features have a large offset) and the biased variance, accumulated in double.
 * - VbnNormalize(x [B, ..., C], hi, lo, variance, gamma, beta, rowWeights [B]) -> out, rowStats:
 *   rows with weight 0 use the reference statistics, rows with weight 1/(N+1) the virtual ones;
 *   ReLU fused when attrs.relu.
 * - VbnLayer(x, gamma, beta, rowWeights; statsRows = N): VbnStats of the first N rows and
 *   VbnNormalize of every row in one op; its gradient includes the statistics' own term.
 * - SpatialMean(x [B, ..., C]; fromRow) -> [B - fromRow, C].
 * Gradients are registered here; the gradient kernels are native too.
 */

/** Whether the active backend has every fused kernel. */
export function fusedKernelsAvailable(): boolean {
  const backend = tf.getBackend();
  return FUSED_KERNEL_NAMES.every((name) => tf.getKernel(name, backend) !== undefined);
}

/** x `[B, ..., C]`: float32, rank >= 2, not empty. Returns B, C and the shape for messages. */
function checkActivations(fn: string, x: tf.Tensor): { B: number; C: number; where: string } {
  checkFloat(fn, 'x', x);
  checkRank(fn, 'x', x);
  checkNonEmpty(fn, 'x', x);
  return { B: x.shape[0], C: x.shape[x.rank - 1], where: `x shape ${shapeString(x.shape)}` };
}

/** gamma, beta `[C]`, rowWeights `[B]`, epsilon > 0: the arguments VbnNormalize and VbnLayer share. */
function checkAffine(
  fn: string,
  x: { B: number; C: number },
  gamma: tf.Tensor,
  beta: tf.Tensor,
  rowWeights: tf.Tensor,
  epsilon: number,
): void {
  checkVector(fn, 'gamma', gamma, x.C, 'one value per channel');
  checkVector(fn, 'beta', beta, x.C, 'one value per channel');
  checkVector(fn, 'rowWeights', rowWeights, x.B, 'one weight per row of x');
  checkPositive(fn, 'epsilon', epsilon);
}

/** Statistics of the first `rows` rows of x (default all): no slice, hence no pad in the gradient. */
export function vbnStatsOp(
  x: tf.Tensor,
  rows = x?.shape?.[0],
): { hi: tf.Tensor1D; lo: tf.Tensor1D; variance: tf.Tensor1D } {
  const fn = 'vbnStatsOp';
  const { B, where } = checkActivations(fn, x);
  checkIntegerIn(fn, 'rows', rows, 1, B, where);
  const [hi, lo, variance] = runFused(K.VbnStats, { x }, { rows }) as tf.Tensor1D[];
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
  const fn = 'vbnNormalizeOp';
  const shape = checkActivations(fn, x);
  for (const [name, t] of [
    ['hi', hi],
    ['lo', lo],
    ['variance', variance],
  ] as const) {
    checkVector(fn, name, t, shape.C, 'one value per channel');
  }
  checkAffine(fn, shape, gamma, beta, rowWeights, epsilon);
  checkBoolean(fn, 'relu', relu);
  const inputs = { x, hi, lo, variance, gamma, beta, rowWeights };
  const [out] = runFused(K.VbnNormalize, inputs, { epsilon, relu });
  return out;
}

/** Mean over the spatial axes of rows fromRow.. of x: `[B, ..., C]` -> `[B - fromRow, C]`. */
export function spatialMeanOp(x: tf.Tensor, fromRow = 0): tf.Tensor2D {
  const fn = 'spatialMeanOp';
  const { B, where } = checkActivations(fn, x);
  checkIntegerIn(fn, 'fromRow', fromRow, 0, B - 1, where);
  return runFused(K.SpatialMean, { x }, { fromRow })[0] as tf.Tensor2D;
}

/**
 * Statistics of the first `statsRows` rows of x and ReLU(VBN) of every row in one op; its gradient
 * includes the statistics' own term (no separate pass, no sum of two full-size gradients).
 * With `stop`, no gradient flows through the statistics.
 */
export function vbnLayerOp(
  x: tf.Tensor,
  statsRows: number,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  rowWeights: tf.Tensor1D,
  epsilon: number,
  stop: boolean,
): { out: tf.Tensor; hi: tf.Tensor1D; lo: tf.Tensor1D; variance: tf.Tensor1D } {
  const fn = 'vbnLayerOp';
  const shape = checkActivations(fn, x);
  checkIntegerIn(fn, 'statsRows', statsRows, 1, shape.B, shape.where);
  checkAffine(fn, shape, gamma, beta, rowWeights, epsilon);
  checkBoolean(fn, 'stop', stop);
  const attrs = { statsRows, epsilon, relu: true, stop };
  const [out, , hi, lo, variance] = runFused(K.VbnLayer, { x, gamma, beta, rowWeights }, attrs);
  return { out, hi: hi as tf.Tensor1D, lo: lo as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

let gradientsRegistered = false;

/**
 * The row weights mix each row's own statistics with the reference's (0 or 1/(N+1)): constants of
 * the method. TensorFlow.js asks for an input's gradient only when the caller differentiates
 * something upstream of it, so this refuses that case instead of returning a silent zero.
 */
function noGradient(fn: string): never {
  throw new VbnError(
    `${fn}: no gradient w.r.t. rowWeights (the per-row mixing weights are constants; pass a tensor that nothing differentiated depends on)`,
  );
}

/**
 * Registers the gradients of the fused ops (idempotent). Attributes pass through to the grad kernels.
 * What each differentiates (hi is the mean rounded to float32, lo = mean - hi the remainder: hi is
 * piecewise constant in x, so the mean's gradient reaches x through lo, as the composed ops' pivot
 * and offset):
 * - VbnStats: x, through lo and variance (hi's gradient is zero almost everywhere).
 * - VbnNormalize: x, hi, lo (each gets the mean's gradient: out depends on hi + lo), variance,
 *   gamma, beta; rowWeights refused.
 * - VbnLayer: x (through its own statistics and, via lo and variance, those a later op used),
 *   gamma, beta; rowWeights refused.
 * - SpatialMean: x.
 */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: K.VbnStats,
    inputsToSave: ['x'],
    outputsToSave: [true, true, false],
    gradFunc: (dy, saved, attrs) => {
      const [, dLo, dVar] = dy as tf.Tensor[];
      const [x, hi, lo] = saved;
      return {
        x: () => runFused(K.VbnStatsGrad, { x, hi, lo, dMean: dLo, dVar }, attrs)[0],
      };
    },
  });
  tf.registerGradient({
    kernelName: K.VbnNormalize,
    inputsToSave: ['x', 'hi', 'lo', 'gamma', 'rowWeights'],
    outputsToSave: [true, true],
    gradFunc: (dy, saved, attrs) => {
      const [x, hi, lo, gamma, rowWeights, out, rowStats] = saved;
      const [dx, dMean, dVar, dGamma, dBeta] = runFused(
        K.VbnNormalizeGrad,
        { dy: (dy as tf.Tensor[])[0], x, out, hi, lo, gamma, rowWeights, rowStats },
        attrs as unknown as K.VbnNormalizeGradAttrs,
      );
      // out depends on hi + lo: both have the mean's gradient.
      return {
        x: () => dx,
        hi: () => tf.clone(dMean),
        lo: () => dMean,
        variance: () => dVar,
        gamma: () => dGamma,
        beta: () => dBeta,
        rowWeights: () => noGradient('vbnNormalizeOp'),
      };
    },
  });
  tf.registerGradient({
    kernelName: K.VbnLayer,
    inputsToSave: ['x', 'gamma', 'rowWeights'],
    outputsToSave: [true, true, true, true, false],
    gradFunc: (dy, saved, attrs) => {
      const [dOut, , , dLo, dVar] = dy as tf.Tensor[];
      const [x, gamma, rowWeights, out, rowStats, hi, lo] = saved;
      const [dx, dGamma, dBeta] = runFused(
        K.VbnLayerGrad,
        {
          dy: dOut,
          x,
          out,
          hi,
          lo,
          gamma,
          rowWeights,
          rowStats,
          dMeanExt: dLo,
          dVarExt: dVar,
        },
        attrs as unknown as K.VbnLayerGradAttrs,
      );
      return {
        x: () => dx,
        gamma: () => dGamma,
        beta: () => dBeta,
        rowWeights: () => noGradient('vbnLayerOp'),
      };
    },
  });
  tf.registerGradient({
    kernelName: K.SpatialMean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return { x: () => runFused(K.SpatialMeanGrad, { dy: dy as tf.Tensor, x }, attrs)[0] };
    },
  });
}
