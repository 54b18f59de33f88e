import * as tf from '@tensorflow/tfjs-core';
import type { ParamTensors } from '../model/net.js';
import { VbnError } from '../errors.js';
import { Random, tfSeed } from '../util/random.js';
import { CLASSIFIER_CLASSES, CLASSIFIER_FEATURES, classifyAll } from './classifier.js';
import type { Generator } from './generator.js';
import {
  classHistogram,
  classesCovered,
  classifierScore,
  fitGaussian,
  frechetDistance,
  type Gaussian,
} from './metrics.js';

/**
 * Seeded latents `[count, dim]`; `stream` separates independent draws. Standard normal, except,
 * with `codes` > 0, the last `codes` entries of each row: a one-hot code, uniform over the
 * categories (GeneratorConfig.codes). codes 0 gives the same numbers as before codes existed.
 */
export function latents(
  seed: number,
  stream: number,
  count: number,
  dim: number,
  codes = 0,
): tf.Tensor2D {
  if (!Number.isInteger(codes) || codes < 0 || codes >= dim) {
    throw new VbnError(
      `latents: codes must be an integer from 0 to dim - 1 = ${dim - 1} (z needs a normal part) but is ${codes}`,
    );
  }
  const normal = tf.randomNormal([count, dim - codes], 0, 1, 'float32', tfSeed(seed, stream));
  if (codes === 0) return normal as tf.Tensor2D;
  const random = new Random(tfSeed(seed, stream));
  const oneHot = new Float32Array(count * codes);
  for (let r = 0; r < count; r++) oneHot[r * codes + random.int(codes)] = 1;
  const out = tf.tidy(() => tf.concat([normal, tf.tensor2d(oneHot, [count, codes])], 1));
  normal.dispose();
  return out as tf.Tensor2D;
}

/** G(z) for `z` `[N, latentDim]`, `batch` rows at a time, rescaled from [-1, 1] to [0, 1]. */
export function generateImages(
  generator: Generator,
  params: ParamTensors,
  referenceZ: tf.Tensor | null,
  z: tf.Tensor2D,
  batch = 250,
): Float32Array {
  const n = z.shape[0];
  const [h, w, c] = generator.config.outputShape;
  const out = new Float32Array(n * h * w * c);
  for (let s = 0; s < n; s += batch) {
    const rows = Math.min(batch, n - s);
    tf.tidy(() => {
      const zs = tf.slice(z, [s, 0], [rows, -1]);
      const images = generator.apply(params, referenceZ, zs);
      out.set(tf.mul(tf.add(images, 1), 0.5).dataSync(), s * h * w * c);
    });
  }
  return out;
}

export interface SampleMetrics {
  classifierScore: number;
  frechetDistance: number;
  /** Share of the samples the classifier puts in each class. */
  classHistogram: number[];
  /** Classes with at least 5% of the samples. */
  classesCovered: number;
}

/** The evaluation classifier's Gaussian of `count` images `[count, 28, 28, 1]` in [0, 1]. */
export function featureGaussian(
  classifier: ParamTensors,
  images: Float32Array,
  count: number,
): Gaussian {
  return fitGaussian(classifyAll(classifier, images, count).features, CLASSIFIER_FEATURES);
}

/** Classifier score, Fréchet distance to `real` and class coverage of `count` images in [0, 1]. */
export function sampleMetrics(
  classifier: ParamTensors,
  images: Float32Array,
  count: number,
  real: Gaussian,
): SampleMetrics {
  const { probabilities, features } = classifyAll(classifier, images, count);
  const histogram = classHistogram(probabilities, CLASSIFIER_CLASSES);
  return {
    classifierScore: classifierScore(probabilities, CLASSIFIER_CLASSES),
    frechetDistance: frechetDistance(fitGaussian(features, CLASSIFIER_FEATURES), real),
    classHistogram: histogram,
    classesCovered: classesCovered(histogram),
  };
}

/**
 * Largest absolute change of G(z0) when z0 is generated alone versus among random companions
 * (1 to 63 of them, z0 at a random row), over `trials` trials. 0 (or float32 rounding) means a
 * sample depends only on its own z; batch norm makes it depend on the batch.
 */
export function batchIndependence(
  generator: Generator,
  params: ParamTensors,
  referenceZ: tf.Tensor | null,
  seed: number,
  trials = 10,
): number {
  return tf.tidy(() => {
    const { latentDim: dim, codes } = generator.config;
    let worst = 0;
    for (let t = 0; t < trials; t++) {
      const z0 = latents(seed, 3000 + t, 1, dim, codes);
      const alone = generator.apply(params, referenceZ, z0);
      const companions = 1 + ((t * 37 + 11) % 63);
      const at = (t * 17) % (companions + 1);
      const others = latents(seed, 4000 + t, companions, dim, codes);
      const batch = tf.concat(
        [tf.slice(others, [0, 0], [at, -1]), z0, tf.slice(others, [at, 0], [-1, -1])],
        0,
      );
      const among = tf.slice(
        generator.apply(params, referenceZ, batch),
        [at, 0, 0, 0],
        [1, -1, -1, -1],
      );
      worst = Math.max(worst, tf.max(tf.abs(tf.sub(alone, among))).dataSync()[0]);
    }
    return worst;
  });
}
