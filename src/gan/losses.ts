import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';

/**
 * Non-saturating GAN losses (Goodfellow et al. 2014) on discriminator logits:
 *   D: mean softplus(-D(x)) + mean softplus(D(G(z)))   (= -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))))
 *   G: mean softplus(-D(G(z)))                         (= -log sigmoid(D(G(z))))
 */
export function discriminatorLoss(realLogits: tf.Tensor1D, fakeLogits: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() =>
    tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits))),
  );
}

export function generatorLoss(fakeLogits: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(tf.neg(fakeLogits))));
}

/** Mean cross-entropy of logits `[B, K]` against one-hot targets `[B, K]`: -mean_b sum_k t log softmax(l). */
function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/**
 * InfoGAN's code loss: the mean cross-entropy of the code head's logits `[B, K]` against the
 * one-hot code in z's last K entries (z `[B, latentDim]`), -mean_b log softmax(logits_b)[code_b].
 * Minimized by both networks: the discriminator's head learns to recover the code, the generator
 * to make it recoverable.
 */
export function infoLoss(codeLogits: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  const [b, k] = codeLogits.shape;
  if (codeLogits.rank !== 2 || z.rank !== 2 || z.shape[0] !== b || z.shape[1] <= k) {
    throw new VbnError(
      `infoLoss: codeLogits [B, K] needs z [B, D] with D > K but codeLogits is [${codeLogits.shape.join(',')}] and z is [${z.shape.join(',')}]`,
    );
  }
  return tf.tidy(() => crossEntropy(codeLogits, tf.slice(z, [0, z.shape[1] - k], [-1, k])));
}

/**
 * AC-GAN's class loss (Odena et al. 2017): the mean cross-entropy of the code head's logits
 * `[B, K]` on real images against their labels `[B]` (int32 in [0, K)). Added to the
 * discriminator's loss, it makes the head a classifier of the real data, so that the code the
 * generator must make recoverable (infoLoss) is the class: code k draws class k.
 */
export function labelLoss(codeLogits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [b, k] = codeLogits.shape;
  if (
    codeLogits.rank !== 2 ||
    labels.rank !== 1 ||
    labels.shape[0] !== b ||
    labels.dtype !== 'int32'
  ) {
    throw new VbnError(
      `labelLoss: codeLogits [B, K] needs int32 labels [B] but codeLogits is [${codeLogits.shape.join(',')}] and labels are ${labels.dtype} [${labels.shape.join(',')}]`,
    );
  }
  const values = labels.dataSync();
  const bad = values.findIndex((v) => !(v >= 0 && v < k));
  if (bad >= 0) {
    throw new VbnError(
      `labelLoss: label ${values[bad]} of row ${bad} is outside the code head's classes [0, ${k - 1}]`,
    );
  }
  return tf.tidy(() =>
    crossEntropy(codeLogits, tf.cast(tf.oneHot(labels, k), 'float32') as tf.Tensor2D),
  );
}
