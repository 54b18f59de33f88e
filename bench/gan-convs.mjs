// Times the default discriminator's three stride-2 'same' convolutions (batch 64) on a backend:
// forward, input gradient (conv2dTranspose) and both gradients, mean of 10 after 3 warm-ups.
//   node bench/gan-convs.mjs [backend=native]
// docs/gan.md: the third block (7x7 -> 4x4, 64 -> 128 channels) is the step's largest convolution.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';

await vbn.useBackend(process.argv[2] ?? 'native');
const time = (f) => {
  for (let i = 0; i < 3; i++) tf.dispose(f());
  const t = performance.now();
  for (let i = 0; i < 10; i++) tf.dispose(f());
  return ((performance.now() - t) / 10).toFixed(2);
};
console.log('input -> output          MMAC  forward ms  input grad ms  both grads ms');
for (const [h, k, cin, cout] of [
  [28, 4, 1, 32],
  [14, 4, 32, 64],
  [7, 4, 64, 128],
  [7, 3, 64, 128],
]) {
  const x = tf.randomNormal([64, h, h, cin]);
  const w = tf.randomNormal([k, k, cin, cout]);
  const y = tf.conv2d(x, w, 2, 'same');
  const mmac = (y.size * k * k * cin) / 1e6;
  const grads = tf.grads((a, b) => tf.sum(tf.conv2d(a, b, 2, 'same')));
  const row = [
    `${h}x${h}x${cin} -> ${y.shape[1]}x${y.shape[2]}x${cout} k${k}`.padEnd(24),
    mmac.toFixed(1).padStart(5),
    time(() => tf.conv2d(x, w, 2, 'same')).padStart(11),
    time(() => tf.conv2dTranspose(y, w, x.shape, 2, 'same')).padStart(14),
    time(() => grads([x, w])).padStart(14),
  ];
  console.log(row.join(' '));
  tf.dispose([x, w, y]);
}
