import * as tf from '@tensorflow/tfjs-core';

/**
 * Leaky ReLU, max(x, leak * x), whose gradient is dy * step(x, leak): two kernels where
 * TensorFlow.js' own gradient, where(x > 0, dy, dy * leak), takes three (Greater, Multiply,
 * Select). The values are the same bits (dy * 1, or dy times leak rounded to float32) for every
 * finite x; the discriminator runs it on every block, forward and backward, in every GAN step.
 */
export function leakyReluOf(leak: number): (x: tf.Tensor4D) => tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    return {
      value: tf.leakyRelu(x, leak),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, tf.step(saved, leak)),
    };
  });
  return (x) => f(x) as tf.Tensor4D;
}
