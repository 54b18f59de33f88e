// `npm run train-classifier` (it imports vbn's modules from dist/, which scripts/setup.sh builds): trains
// the GAN metrics' evaluation classifier on MNIST's 60000 training digits (Adam, batch 64, seed 0,
// native backend when built; the learning rate of each epoch in LR), reports the test accuracy
// after each epoch, and writes models/mnist-classifier (weights.json, weights.bin, model.json)
// after each epoch.
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { useBackend } from '../dist/backend/node/select.js';
import { epochOrder } from '../dist/run/order.js';
import { gather } from '../dist/data/dataset.js';
import { loadMnist } from '../dist/data/node/mnist.js';
import { applyClassifier, classifyAll, initClassifier } from '../dist/gan/classifier.js';
import { CLASSIFIER_DIR } from '../dist/gan/node/classifier-files.js';

const LR = [1e-3, 1e-3, 1e-3, 3e-4];
const SETTINGS = { epochs: LR.length, batchSize: 64, lr: LR, seed: 0 };

/** Adam at a new learning rate, continuing the moments of `old`. */
async function withRate(old, lr) {
  const next = tf.train.adam(lr);
  await next.setWeights(await old.getWeights());
  old.dispose();
  return next;
}

async function main() {
  await useBackend('auto');
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const train = loadMnist('train', digits);
  const test = loadMnist('test', digits);
  const params = initClassifier(SETTINGS.seed);
  let optimizer = tf.train.adam(LR[0]);
  const n = train.labels.length;
  const t0 = performance.now();
  for (let epoch = 0; epoch < SETTINGS.epochs; epoch++) {
    if (epoch > 0 && LR[epoch] !== LR[epoch - 1]) optimizer = await withRate(optimizer, LR[epoch]);
    const order = epochOrder(n, SETTINGS.seed, epoch);
    let lossSum = 0;
    for (let s = 0; s < n; s += SETTINGS.batchSize) {
      const idx = order.slice(s, s + SETTINGS.batchSize);
      lossSum += tf.tidy(() => {
        const x = tf.tensor4d(gather(train, idx), [idx.length, 28, 28, 1]);
        const y = tf.oneHot(
          tf.tensor1d(
            Int32Array.from(idx, (k) => train.labels[k]),
            'int32',
          ),
          10,
        );
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, applyClassifier(params, x).logits),
          Object.values(params),
        );
        optimizer.applyGradients(grads);
        return value.dataSync()[0] * idx.length;
      });
    }
    const acc = accuracy(params, test);
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    await save(params, describe(acc));
    console.log(
      `epoch ${epoch + 1}/${SETTINGS.epochs}  train loss ${(lossSum / n).toFixed(4)}  test accuracy ${(100 * acc).toFixed(2)}%  ${secs} s`,
    );
  }
  const acc = accuracy(params, test);
  console.log(`test accuracy ${(100 * acc).toFixed(2)}%; written to ${CLASSIFIER_DIR}`);
  if (acc < 0.99) process.exitCode = 1;
}

function describe(testAccuracy) {
  return {
    architecture: 'conv4x4s2x32-relu-conv4x4s2x64-relu-dense128-relu-dense10',
    input: '[B, 28, 28, 1] in [0, 1]',
    testAccuracy,
    ...SETTINGS,
    command: 'npm run train-classifier',
  };
}

function accuracy(params, test) {
  const n = test.labels.length;
  const { probabilities } = classifyAll(params, test.images, n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = probabilities.subarray(i * 10, i * 10 + 10);
    if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
  }
  return correct / n;
}

/** Writes the folder under a temporary name, then renames it into place. */
async function save(params, info) {
  const { data, specs } = await tf.io.encodeWeights(params);
  const tmp = join(dirname(CLASSIFIER_DIR), `.mnist-classifier.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), new Uint8Array(data));
  writeFileSync(
    join(tmp, 'weights.json'),
    JSON.stringify([{ paths: ['weights.bin'], weights: specs }], null, 1) + '\n',
  );
  writeFileSync(join(tmp, 'model.json'), JSON.stringify(info, null, 2) + '\n');
  rmSync(CLASSIFIER_DIR, { recursive: true, force: true });
  renameSync(tmp, CLASSIFIER_DIR);
}

await main();
