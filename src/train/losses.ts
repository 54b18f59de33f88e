import * as tf from '@tensorflow/tfjs-core';

export type LossName = 'softmax-cross-entropy' | 'sigmoid-cross-entropy' | 'hinge';
export const LOSSES: readonly LossName[] = [
  'softmax-cross-entropy',
  'sigmoid-cross-entropy',
  'hinge',
];

/** Mean loss of logits `[B, K]` against one-hot labels `[B, K]`. */
export function computeLoss(name: LossName, oneHot: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  switch (name) {
    case 'softmax-cross-entropy':
      return tf.losses.softmaxCrossEntropy(oneHot, logits);
    case 'sigmoid-cross-entropy':
      return tf.losses.sigmoidCrossEntropy(oneHot, logits);
    case 'hinge':
      // One-vs-all hinge: labels {0,1} become {-1,+1}.
      return tf.losses.hingeLoss(oneHot, logits);
  }
}
