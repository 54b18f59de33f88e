import * as tf from '@tensorflow/tfjs-core';

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
