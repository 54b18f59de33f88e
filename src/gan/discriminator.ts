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
  /** conv{i}/kernel per block (no conv biases: cheaper, and the dense bias suffices), dense/kernel, dense/bias. */
  readonly parameterNames: readonly string[];
  readonly parameterShapes: Readonly<Record<string, number[]>>;
  init(seed: number): Params;
  /** Logits `[B]` (real: positive) for images `[B, H, W, C]` in [-1, 1]. */
  apply(params: ParamTensors, images: tf.Tensor): tf.Tensor1D;
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
      expectBatch('Discriminator.apply', 'images', images, c.inputShape);
      return tf.tidy(() => {
        let x = images as tf.Tensor4D;
        c.filters.forEach((_, i) => {
          const y = tf.conv2d(x, param(params, `conv${i}/kernel`) as tf.Tensor4D, 2, 'same');
          x = leakyRelu(y);
        });
        const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
        const logit = tf.add(
          tf.matMul(flat, param(params, 'dense/kernel') as tf.Tensor2D),
          param(params, 'dense/bias'),
        );
        return tf.reshape(logit, [-1]) as tf.Tensor1D;
      });
    },
  };
}
