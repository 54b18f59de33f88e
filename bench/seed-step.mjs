// The seed network's training step for the profiling scripts: 32 inputs + 32 reference images
// [32, size, size, 1], 3x3 stride-1 'valid' convolutions, softmax cross-entropy, Adam 1e-3.
// Fixed seeds, so every script times the same step. Returns the step as a function of nothing.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';

export async function seedStep({
  backend = 'native',
  size = 256,
  strategy = 'concat',
  mode = 'virtual',
  filters = [16, 32, 64],
} = {}) {
  await vbn.useBackend(backend);
  tf.enableProdMode();
  const net = vbn.createVbnNet({ inputShape: [size, size, 1], filters, mode });
  const p = net.init(1);
  const R = tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 5);
  const X = tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 6);
  const y = tf.tensor1d(
    Array.from({ length: 32 }, (_, i) => i % 2),
    'int32',
  );
  const opt = tf.train.adam(1e-3);
  return () => vbn.trainStep(net, p, opt, R, X, y, { strategy, loss: 'softmax-cross-entropy' });
}
