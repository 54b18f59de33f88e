import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';
import { KERNELS, blockOps, type BlockOps, type Kernels } from '../model/block-ops.js';
import type { ParamTensors, Params } from '../model/net.js';
import { virtualWeight } from '../vbn/normalize.js';
import type { ReferenceStatistics } from '../vbn/statistics.js';
import { checkOneOf } from '../vbn/validate.js';
import {
  resolveGeneratorConfig,
  upsamplings,
  type GeneratorConfig,
  type ResolvedGeneratorConfig,
} from './config.js';
import { expectBatch, initParams, paramOf } from './params.js';

export interface Generator {
  /** The configuration with every default applied. */
  readonly config: ResolvedGeneratorConfig;
  /**
   * In order: dense/kernel, norm0/gamma, norm0/beta, then per hidden block i >= 1
   * deconv{i}/kernel, norm{i}/gamma, norm{i}/beta; out/kernel, out/bias. With norm 'none' no
   * norm parameters but biases: dense/bias after dense/kernel, deconv{i}/bias after deconv{i}/kernel.
   */
  readonly parameterNames: readonly string[];
  readonly parameterShapes: Readonly<Record<string, number[]>>;
  /** Fresh parameters, deterministic for a seed. */
  init(seed: number): Params;
  /**
   * Images `[B, H, W, C]` in [-1, 1] for latents `z` `[B, latentDim]`. Norm 'vbn' normalizes
   * against the activations of `referenceZ` `[N, latentDim]` at the current weights (one pass over
   * [referenceZ; z]; gradients flow through the statistics); 'bn' against z's own batch; 'none'
   * not at all (`referenceZ` may be null for 'bn' and 'none').
   */
  apply(
    params: ParamTensors,
    referenceZ: tf.Tensor | null,
    z: tf.Tensor,
    options?: { kernels?: Kernels },
  ): tf.Tensor4D;
  /**
   * Norm 'vbn': each hidden block's statistics of `referenceZ` `[N, latentDim]` at these weights
   * (what `apply` normalizes z's rows against); one entry per block. Dispose with
   * disposeStatistics. Other norms have no reference: an error.
   */
  referenceStatistics(params: ParamTensors, referenceZ: tf.Tensor): ReferenceStatistics[];
}

function generatorShapes(c: ResolvedGeneratorConfig): Record<string, number[]> {
  const f = c.filters;
  const [h, w, ch] = c.outputShape;
  const up = 2 ** upsamplings(c);
  const shapes: Record<string, number[]> = {
    'dense/kernel': [c.latentDim, (h / up) * (w / up) * f[0]],
  };
  // Biases before a norm are removed by its mean subtraction: only 'none' has them.
  if (c.norm === 'none') shapes['dense/bias'] = [(h / up) * (w / up) * f[0]];
  const norm = (i: number) => {
    if (c.norm === 'none') return;
    shapes[`norm${i}/gamma`] = [f[i]];
    shapes[`norm${i}/beta`] = [f[i]];
  };
  norm(0);
  for (let i = 1; i < f.length; i++) {
    shapes[`deconv${i}/kernel`] = [c.kernelSize, c.kernelSize, f[i], f[i - 1]];
    if (c.norm === 'none') shapes[`deconv${i}/bias`] = [f[i]];
    norm(i);
  }
  shapes['out/kernel'] = [c.kernelSize, c.kernelSize, ch, f[f.length - 1]];
  shapes['out/bias'] = [ch];
  return shapes;
}

/** oneDNN's transposed convolution to fewer than 8 channels is 4-40x slower than to 8. */
const MIN_FAST_CHANNELS = 8;

/** Stride-s 'same' transposed convolution: [B, h, w, Cin] -> [B, s h, s w, Cout]. */
function upsample(x: tf.Tensor4D, kernel: tf.Tensor4D, s: number): tf.Tensor4D {
  const [b, h, w] = x.shape;
  const cout = kernel.shape[2];
  if (cout >= MIN_FAST_CHANNELS) {
    return tf.conv2dTranspose(x, kernel, [b, s * h, s * w, cout], s, 'same');
  }
  // Zero kernels for the extra channels, sliced off again: the same numbers, faster.
  const padded = tf.pad(kernel, [
    [0, 0],
    [0, 0],
    [0, MIN_FAST_CHANNELS - cout],
    [0, 0],
  ]);
  const y = tf.conv2dTranspose(x, padded, [b, s * h, s * w, MIN_FAST_CHANNELS], s, 'same');
  return tf.slice(y, [0, 0, 0, 0], [-1, -1, -1, cout]);
}

/** Dense -> reshape -> stride-2 conv2dTranspose blocks (each: norm -> ReLU) -> conv2dTranspose (stride outputStride), tanh. */
export function createGenerator(config: GeneratorConfig = {}): Generator {
  const c = resolveGeneratorConfig(config);
  const shapes = generatorShapes(c);
  const names = Object.keys(shapes);
  const fn = 'Generator.apply';
  const param = (params: ParamTensors, name: string) => paramOf('Generator', shapes, params, name);
  const up = 2 ** upsamplings(c);
  const [h0, w0] = [c.outputShape[0] / up, c.outputShape[1] / up];

  /** Rows [0, n) give the statistics; row r is normalized with its own weight weights[r]. */
  const normRelu = (
    params: ParamTensors,
    ops: BlockOps,
    i: number,
    y: tf.Tensor4D,
    n: number,
    weights: number[],
    collect?: ReferenceStatistics[],
  ): tf.Tensor4D => {
    if (c.norm === 'none') return tf.relu(y);
    const affine = {
      gamma: param(params, `norm${i}/gamma`),
      beta: param(params, `norm${i}/beta`),
      epsilon: c.epsilon,
    };
    const l = ops.layer(y, false, n, weights, affine);
    collect?.push(l.stats);
    return l.out;
  };

  /** The hidden blocks for every row of z `[R, latentDim]`: `[R, h, w, filters[last]]`. */
  const hidden = (
    params: ParamTensors,
    ops: BlockOps,
    z: tf.Tensor2D,
    stats: number,
    weights: number[],
    collect?: ReferenceStatistics[],
  ): tf.Tensor4D => {
    let dense = tf.matMul(z, param(params, 'dense/kernel') as tf.Tensor2D);
    if (c.norm === 'none') dense = tf.add(dense, param(params, 'dense/bias'));
    const y0 = tf.reshape(dense, [-1, h0, w0, c.filters[0]]) as tf.Tensor4D;
    let x = normRelu(params, ops, 0, y0, stats, weights, collect);
    for (let i = 1; i < c.filters.length; i++) {
      let y = upsample(x, param(params, `deconv${i}/kernel`) as tf.Tensor4D, 2);
      if (c.norm === 'none') y = tf.add(y, param(params, `deconv${i}/bias`));
      x = normRelu(params, ops, i, y, stats, weights, collect);
    }
    return x;
  };

  const forward = (params: ParamTensors, ops: BlockOps, z: tf.Tensor2D, n: number) => {
    const b = z.shape[0] - n;
    const weights =
      c.norm === 'vbn'
        ? [...new Array<number>(n).fill(0), ...new Array<number>(b).fill(virtualWeight(c.mode, n))]
        : new Array<number>(z.shape[0]).fill(0);
    const stats = c.norm === 'vbn' ? n : z.shape[0];
    let x = hidden(params, ops, z, stats, weights);
    // The reference rows have given their statistics: the output layer needs only z's rows.
    if (n > 0) x = tf.slice(x, [n, 0, 0, 0], [b, -1, -1, -1]);
    const out = tf.add(
      upsample(x, param(params, 'out/kernel') as tf.Tensor4D, c.outputStride),
      param(params, 'out/bias'),
    );
    return tf.tanh(out) as tf.Tensor4D;
  };

  return {
    config: c,
    parameterNames: names,
    parameterShapes: shapes,
    init: (seed) => initParams(names, shapes, seed),
    apply(params, referenceZ, z, options = {}) {
      expectBatch(fn, 'z', z, [c.latentDim]);
      const useReference = c.norm === 'vbn';
      if (useReference) {
        if (referenceZ === null || referenceZ === undefined) {
          throw new VbnError(`${fn}: norm 'vbn' needs referenceZ [N,${c.latentDim}] but got null`);
        }
        expectBatch(fn, 'referenceZ', referenceZ, [c.latentDim]);
      }
      const ops = blockOps(checkOneOf(fn, 'kernels', options.kernels ?? 'auto', KERNELS));
      return tf.tidy(() => {
        if (!useReference) return forward(params, ops, z as tf.Tensor2D, 0);
        const n = (referenceZ as tf.Tensor).shape[0];
        return forward(params, ops, tf.concat([referenceZ as tf.Tensor2D, z as tf.Tensor2D], 0), n);
      });
    },
    referenceStatistics(params, referenceZ) {
      const name = 'Generator.referenceStatistics';
      if (c.norm !== 'vbn') {
        throw new VbnError(`${name}: norm '${c.norm}' has no reference statistics (only 'vbn')`);
      }
      expectBatch(name, 'referenceZ', referenceZ, [c.latentDim]);
      const n = referenceZ.shape[0];
      // tidy keeps every tensor reachable from the returned objects.
      return tf.tidy(() => {
        const stats: ReferenceStatistics[] = [];
        const ops = blockOps('auto');
        hidden(params, ops, referenceZ as tf.Tensor2D, n, new Array<number>(n).fill(0), stats);
        return stats as unknown as tf.TensorContainer;
      }) as unknown as ReferenceStatistics[];
    },
  };
}
