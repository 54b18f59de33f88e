import * as tf from '@tensorflow/tfjs-core';
import type { ParamTensors, Params } from '../model/net.js';
import {
  resolveDiscriminatorConfig,
  type DiscriminatorConfig,
  type ResolvedDiscriminatorConfig,
} from './config.js';
import { leakyReluOf } from './leaky-relu.js';
import { expectBatch, initParams, paramOf } from './params.js';

export interface Discriminator {
  readonly config: ResolvedDiscriminatorConfig;
  /**
   * conv{i}/kernel per block (no conv biases: cheaper, and the dense bias suffices), dense/kernel,
   * dense/bias; with codes > 0 also code/kernel, code/bias (the code head).
   */
  readonly parameterNames: readonly string[];
  readonly parameterShapes: Readonly<Record<string, number[]>>;
  init(seed: number): Params;
  /** Logits `[B]` (real: positive) for images `[B, H, W, C]` in [-1, 1]. */
  apply(params: ParamTensors, images: tf.Tensor): tf.Tensor1D;
  /**
   * The logits `[B]` and, with codes > 0, the code head's logits `[B, codes]` (InfoGAN's Q: a
   * dense layer on the same features), from one pass.
   */
  heads(params: ParamTensors, images: tf.Tensor): DiscriminatorHeads;
}

export interface DiscriminatorHeads {
  logits: tf.Tensor1D;
  /** null when the discriminator has no code head (codes 0). */
  codeLogits: tf.Tensor2D | null;
}

/** Stride-2 'same' conv + leaky ReLU blocks, flatten, dense to one logit. No normalization. */
export function createDiscriminator(config: DiscriminatorConfig = {}): Discriminator {
  const c = resolveDiscriminatorConfig(config);
  const shapes: Record<string, number[]> = {};
  let [h, w, cin] = c.inputShape;
  c.filters.forEach((f, i) => {
    shapes[`conv${i}/kernel`] = [c.kernelSize, c.kernelSize, cin, f];
    [h, w, cin] = [Math.ceil(h / 2), Math.ceil(w / 2), f];
  });
  shapes['dense/kernel'] = [h * w * cin, 1];
  shapes['dense/bias'] = [1];
  if (c.codes > 0) {
    shapes['code/kernel'] = [h * w * cin, c.codes];
    shapes['code/bias'] = [c.codes];
  }
  const names = Object.keys(shapes);
  const param = (params: ParamTensors, name: string) =>
    paramOf('Discriminator', shapes, params, name);
  const leakyRelu = leakyReluOf(c.leak);
  return {
    config: c,
    parameterNames: names,
    parameterShapes: shapes,
    init: (seed) => initParams(names, shapes, seed),
    apply(params, images) {
      return heads('Discriminator.apply', params, images, false).logits;
    },
    heads(params, images) {
      return heads('Discriminator.heads', params, images, c.codes > 0);
    },
  };

  function heads(
    fn: string,
    params: ParamTensors,
    images: tf.Tensor,
    withCode: boolean,
  ): DiscriminatorHeads {
    expectBatch(fn, 'images', images, c.inputShape);
    const [logits, codeLogits] = tf.tidy(() => {
      let x = images as tf.Tensor4D;
      c.filters.forEach((_, i) => {
        const y = tf.conv2d(x, param(params, `conv${i}/kernel`) as tf.Tensor4D, 2, 'same');
        x = leakyRelu(y);
      });
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      const dense = (name: string) =>
        tf.add(
          tf.matMul(flat, param(params, `${name}/kernel`) as tf.Tensor2D),
          param(params, `${name}/bias`),
        ) as tf.Tensor2D;
      const logit = tf.reshape(dense('dense'), [-1]);
      return withCode ? [logit, dense('code')] : [logit];
    });
    return { logits: logits as tf.Tensor1D, codeLogits: (codeLogits as tf.Tensor2D) ?? null };
  }
}
