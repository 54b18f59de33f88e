import * as tf from '@tensorflow/tfjs-core';

/**
 * Identity whose gradient is zero. TensorFlow.js has no stopGradient op; this is the explicit
 * place where gradient flow is cut.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as T;
}
