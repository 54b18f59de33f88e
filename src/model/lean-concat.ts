import * as tf from '@tensorflow/tfjs-core';
import * as K from '../backend/kernel-names.js';
import { runFused } from '../backend/kernel-names.js';

/** One conv -> VBN -> ReLU block's parameters: kernel `[k, k, Cin, F]`, gamma and beta `[F]`. */
export interface LeanBlock {
  kernel: tf.Tensor4D;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

export interface LeanConcatOptions {
  /** Rows [0, n) of the input are the reference: they give every block's statistics. */
  referenceRows: number;
  /** Row r's own weight in its statistics (0 or 1/(N+1)): one per row of the input. */
  rowWeights: number[];
  strides: number;
  padding: 'valid' | 'same';
  epsilon: number;
  /** No gradient through the reference statistics. */
  stopReferenceGradient: boolean;
}

type Conv = { strides: number; pad: 'valid' | 'same'; dataFormat: 'NHWC' };
type Run = (name: string, inputs: tf.NamedTensorMap, attrs?: object) => tf.Tensor[];

/** A kernel of the native backend; a single output comes back as a one-element list. */
const run: Run = (name, inputs, attrs = {}) => {
  const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
};

/**
 * The concat strategy's blocks on the native backend's fused kernels, for training at scale:
 * the same values and gradients as conv2d -> vbnLayerOp per block and spatialMeanOp of the input
 * rows, bit for bit, in less memory.
 *
 * Input `h` `[N + B, H, W, C]` (reference rows first) -> the pooled features of the input rows
 * `[B, F_last]`. TensorFlow.js keeps every tensor a gradient function saved, and every gradient,
 * until the whole backward pass is over. Here the backward keeps only `h` and each block's
 * convolution output y_i `[N + B, h_i, w_i, F_i]`, and frees each tensor once used:
 * - the last block is pooled without storing its normalized output (VbnLayerPool);
 * - a block's normalized output is recomputed from y_i when the next convolution's kernel
 *   gradient needs it, and freed before that convolution's input gradient is made;
 * - each block's reference statistics (three `[F_i]` vectors) are computed once, in the forward,
 *   and kept for the backward's kernels (the recomputation and VBN's gradient);
 * - VBN's gradient recomputes its ReLU mask from y_i and is written over y_i, which nothing
 *   needs afterwards (VbnLayerLeanGrad with inPlace).
 * At the seed scale the largest set held at once is then h, y_0, y_1, dy_2 and one
 * [N + B, h_1, w_1, F_1] tensor, where the tape held every block's y_i and output and then
 * every gradient.
 *
 * Gradient flow: to every kernel, gamma and beta, through the reference statistics unless
 * `stopReferenceGradient`, and to `h` (so to the reference, the inputs and whatever made them).
 * The first convolution is an ordinary `tf.conv2d` outside the custom gradient, which
 * differentiates the rest w.r.t. its output y_0: TensorFlow.js' own Conv2D gradient then gives
 * the first kernel's gradient and `h`'s, and computes `h`'s only when something the caller
 * differentiates lies upstream of `h` (the tape skips inputs on no such path).
 */
export function leanConcatPool(
  h: tf.Tensor4D,
  blocks: LeanBlock[],
  o: LeanConcatOptions,
): tf.Tensor2D {
  const conv: Conv = { strides: o.strides, pad: o.padding, dataFormat: 'NHWC' };
  const [first, ...rest] = blocks;
  const y0 = tf.conv2d(h, first.kernel, conv.strides, conv.pad);
  const params = [first.gamma, first.beta, ...rest.flatMap((b) => [b.kernel, b.gamma, b.beta])];
  // Differentiates w.r.t. [y_0, gamma_0, beta_0, kernel_1, gamma_1, beta_1, ...].
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { ys, stats, pooled } = forward(y0, blocks, o, conv);
    save([...ys, ...stats.flatMap((s) => [s.hi, s.lo, s.variance])]);
    return {
      value: pooled,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const n = blocks.length;
        const kept = Array.from({ length: n }, (_, i) => {
          const [hi, lo, variance] = saved.slice(n + 3 * i, n + 3 * i + 3);
          return { hi, lo, variance };
        });
        return backward(
          dy as tf.Tensor2D,
          saved.slice(0, n) as tf.Tensor4D[],
          kept,
          blocks,
          o,
          conv,
        );
      },
    };
  });
  return f(y0, ...params) as tf.Tensor2D;
}

const layerAttrs = (o: LeanConcatOptions) => ({
  statsRows: o.referenceRows,
  epsilon: o.epsilon,
  relu: true,
  stop: o.stopReferenceGradient,
});

/** A block's reference statistics `[C]` each (VbnStats' hi, lo, variance of its y's reference rows). */
interface Stats {
  hi: tf.Tensor;
  lo: tf.Tensor;
  variance: tf.Tensor;
}

/** ReLU(VBN(y)) of every row of a block's convolution output, against its statistics. */
function normalized(
  y: tf.Tensor,
  stats: Stats,
  block: LeanBlock,
  rowWeights: tf.Tensor,
  o: LeanConcatOptions,
) {
  const inputs = { x: y, gamma: block.gamma, beta: block.beta, rowWeights, ...stats };
  const [out, rowStats] = runFused(K.VbnNormalize, inputs, { epsilon: o.epsilon, relu: true });
  rowStats.dispose();
  return out;
}

/**
 * Each block's convolution output (y_0 given) and reference statistics (computed once per step:
 * the backward's kernels take them), and the pooled features; nothing else is kept.
 */
function forward(y0: tf.Tensor4D, blocks: LeanBlock[], o: LeanConcatOptions, conv: Conv) {
  const rowWeights = tf.tensor1d(o.rowWeights);
  const ys: tf.Tensor4D[] = [y0];
  const stats: Stats[] = [];
  const statsOf = (y: tf.Tensor) => {
    const [hi, lo, variance] = runFused(K.VbnStats, { x: y }, { rows: o.referenceRows });
    return { hi, lo, variance };
  };
  blocks.forEach((block, i) => {
    if (i === 0) return;
    stats.push(statsOf(ys[i - 1]));
    const x = normalized(ys[i - 1], stats[i - 1], blocks[i - 1], rowWeights, o);
    ys.push(tf.conv2d(x as tf.Tensor4D, block.kernel, conv.strides, conv.pad));
    x.dispose();
  });
  const last = blocks[blocks.length - 1];
  stats.push(statsOf(ys[ys.length - 1]));
  const inputs = { x: ys[ys.length - 1], gamma: last.gamma, beta: last.beta, rowWeights };
  const attrs = { ...layerAttrs(o), fromRow: o.referenceRows };
  const [pooled] = runFused(K.VbnLayerPool, { ...inputs, ...stats[stats.length - 1] }, attrs);
  rowWeights.dispose();
  return { ys, stats, pooled: pooled as tf.Tensor2D };
}

/** Gradients for y_0, then gamma_0, beta_0, then [kernel, gamma, beta] of each later block. */
function backward(
  dPooled: tf.Tensor2D,
  saved: tf.Tensor4D[],
  stats: Stats[],
  blocks: LeanBlock[],
  o: LeanConcatOptions,
  conv: Conv,
): tf.Tensor[] {
  const ys = [...saved];
  const rowWeights = tf.tensor1d(o.rowWeights);
  const grads: tf.Tensor[][] = [];
  // VBN's gradient, written over y (freed here): the gradient of the block's convolution output.
  const vbnGrad = (i: number, dOut: tf.Tensor, pooled: boolean) => {
    const { gamma, beta } = blocks[i];
    const inputs = { dy: dOut, x: ys[i], gamma, beta, rowWeights, ...stats[i] };
    const attrs = {
      ...layerAttrs(o),
      inPlace: true,
      fromRow: pooled ? o.referenceRows : undefined,
    };
    const [dy, dGamma, dBeta] = runFused(K.VbnLayerLeanGrad, inputs, attrs);
    ys[i].dispose();
    return { dy, dGamma, dBeta };
  };
  const last = blocks.length - 1;
  let g = vbnGrad(last, dPooled, true);
  for (let i = last - 1; i >= 0; i--) {
    const next = blocks[i + 1];
    const out = normalized(ys[i], stats[i], blocks[i], rowWeights, o);
    const filterShape = next.kernel.shape;
    const [dKernel] = run('Conv2DBackpropFilter', { x: out, dy: g.dy }, { ...conv, filterShape });
    const inputShape = out.shape;
    out.dispose();
    const [dOut] = run(
      'Conv2DBackpropInput',
      { dy: g.dy, filter: next.kernel },
      { ...conv, inputShape },
    );
    g.dy.dispose();
    grads[i + 1] = [dKernel, g.dGamma, g.dBeta];
    g = vbnGrad(i, dOut, false);
    dOut.dispose();
  }
  grads[0] = [g.dy, g.dGamma, g.dBeta];
  rowWeights.dispose();
  tf.dispose(stats.flatMap((s) => [s.hi, s.lo, s.variance]));
  return grads.flat();
}
