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
  return tf.tidy(() => {
    const code = tf.slice(z, [0, z.shape[1] - k], [-1, k]);
    return tf.neg(tf.mean(tf.sum(tf.mul(code, tf.logSoftmax(codeLogits)), 1))) as tf.Scalar;
  });
}
