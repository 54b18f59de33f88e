import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VbnError } from '../../errors.js';
import { CLASSIFIER_PARAMETERS, CLASSIFIER_SHAPES } from '../classifier.js';

/** The committed evaluation classifier: models/mnist-classifier in the package. */
export const CLASSIFIER_DIR = fileURLToPath(
  new URL('../../../models/mnist-classifier', import.meta.url),
);

/** Reads weights.json + weights.bin of `dir` (TensorFlow.js weights manifest) as tensors. */
export function readClassifier(dir = CLASSIFIER_DIR): Record<string, tf.Tensor> {
  const manifestFile = join(dir, 'weights.json');
  if (!existsSync(manifestFile)) {
    throw new VbnError(
      `${manifestFile}: the evaluation classifier is missing (run npm run train-classifier)`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as tf.io.WeightsManifestConfig;
  const buf = readFileSync(join(dir, manifest[0].paths[0]));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const params = tf.io.decodeWeights(ab, manifest[0].weights);
  for (const name of CLASSIFIER_PARAMETERS) {
    const t = params[name];
    if (!t || t.shape.join(',') !== CLASSIFIER_SHAPES[name].join(',')) {
      tf.dispose(Object.values(params));
      throw new VbnError(`${manifestFile}: parameter '${name}' is missing or has the wrong shape`);
    }
  }
  return params;
}
