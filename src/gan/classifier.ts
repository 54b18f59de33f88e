import * as tf from '@tensorflow/tfjs-core';
import type { ParamTensors, Params } from '../model/net.js';
import { expectBatch, initParams, paramOf } from './params.js';

/**
 * The evaluation classifier of the GAN metrics (like TF-GAN's MNIST classifier): images
 * `[B, 28, 28, 1]` in [0, 1] -> conv 4x4 stride 2 32 + ReLU `[B, 13, 13, 32]` -> conv 4x4
 * stride 2 64 + ReLU `[B, 5, 5, 64]` -> dense 128 + ReLU (the features of the Fréchet distance)
 * -> dense 10 (logits). Strided convolutions, not max pooling: TensorFlow.js' max-pool gradient
 * is a slow JavaScript kernel on every CPU backend (and oneDNN's 5x5 stride-2 input gradient
 * is ~100x slower than 4x4's).
 */
export const CLASSIFIER_INPUT: [number, number, number] = [28, 28, 1];
export const CLASSIFIER_CLASSES = 10;
export const CLASSIFIER_FEATURES = 128;

export const CLASSIFIER_SHAPES: Readonly<Record<string, number[]>> = {
  'conv0/kernel': [4, 4, 1, 32],
  'conv0/bias': [32],
  'conv1/kernel': [4, 4, 32, 64],
  'conv1/bias': [64],
  'features/kernel': [5 * 5 * 64, CLASSIFIER_FEATURES],
  'features/bias': [CLASSIFIER_FEATURES],
  'logits/kernel': [CLASSIFIER_FEATURES, CLASSIFIER_CLASSES],
  'logits/bias': [CLASSIFIER_CLASSES],
};
export const CLASSIFIER_PARAMETERS = Object.keys(CLASSIFIER_SHAPES);

export interface ClassifierOutput {
  /** `[B, 10]`. */
  logits: tf.Tensor2D;
  /** Penultimate activations `[B, 128]`. */
  features: tf.Tensor2D;
}

export function initClassifier(seed: number): Params {
  return initParams(CLASSIFIER_PARAMETERS, CLASSIFIER_SHAPES, seed);
}

/** Logits and features of images `[B, 28, 28, 1]` in [0, 1]. */
export function applyClassifier(params: ParamTensors, images: tf.Tensor): ClassifierOutput {
  expectBatch('applyClassifier', 'images', images, CLASSIFIER_INPUT);
  const p = (name: string) => paramOf('classifier', CLASSIFIER_SHAPES, params, name);
  return tf.tidy(() => {
    let x = images as tf.Tensor4D;
    for (const i of [0, 1]) {
      x = tf.fused.conv2d({
        x,
        filter: p(`conv${i}/kernel`) as tf.Tensor4D,
        strides: 2,
        pad: 'valid',
        bias: p(`conv${i}/bias`),
        activation: 'relu',
      });
    }
    const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
    const features = tf.relu(
      tf.add(tf.matMul(flat, p('features/kernel') as tf.Tensor2D), p('features/bias')),
    ) as tf.Tensor2D;
    const logits = tf.add(
      tf.matMul(features, p('logits/kernel') as tf.Tensor2D),
      p('logits/bias'),
    ) as tf.Tensor2D;
    return { logits, features };
  });
}

/** Classifier outputs for many images, `batch` at a time, as plain arrays (row-major). */
export function classifyAll(
  params: ParamTensors,
  images: Float32Array,
  count: number,
  batch = 500,
): { probabilities: Float32Array; features: Float32Array } {
  const pixels = 28 * 28;
  const probabilities = new Float32Array(count * CLASSIFIER_CLASSES);
  const features = new Float32Array(count * CLASSIFIER_FEATURES);
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(s * pixels, (s + n) * pixels), [n, 28, 28, 1]);
      const out = applyClassifier(params, x);
      probabilities.set(tf.softmax(out.logits).dataSync(), s * CLASSIFIER_CLASSES);
      features.set(out.features.dataSync(), s * CLASSIFIER_FEATURES);
    });
  }
  return { probabilities, features };
}
