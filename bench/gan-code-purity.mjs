// Which digits each categorical code of a vbn gan run draws, and how ambiguous its samples are:
//   node bench/gan-code-purity.mjs <checkpoint or run folder> [samples=5000]
// For N samples from a fixed z (seed 0, stream 7): per code, how many the evaluation classifier
// puts in each class, and the mean entropy of its p(y|x) in nats; then the mean over all samples
// and the classifier score.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';
import { classifyAll } from '../dist/gan/classifier.js';
import { generateImages } from '../dist/gan/evaluate.js';
import { readClassifier } from '../dist/gan/node/classifier-files.js';
import { disposeGan, loadGan } from '../dist/gan/node/load-gan.js';

const [checkpoint, samples = '5000'] = process.argv.slice(2);
await vbn.useBackend('native');
const g = loadGan(checkpoint);
const { codes: k, latentDim: dim } = g.generator.config;
if (k === 0) throw new Error(`${checkpoint}: the run has no categorical code`);
const n = Number(samples);
const z = vbn.latents(0, 7, n, dim, k);
const codeOf = tf.tidy(() => tf.argMax(tf.slice(z, [0, dim - k], [n, k]), 1).dataSync());
const images = generateImages(g.generator, g.gParams, g.referenceZ, z);
const { probabilities: p } = classifyAll(readClassifier(), images, n);
const counts = Array.from({ length: k }, () => new Array(10).fill(0));
const entropy = new Array(k).fill(0);
let total = 0;
for (let i = 0; i < n; i++) {
  const row = Array.from(p.subarray(i * 10, (i + 1) * 10));
  const h = row.reduce((s, q) => (q > 0 ? s - q * Math.log(q) : s), 0);
  counts[codeOf[i]][row.indexOf(Math.max(...row))]++;
  entropy[codeOf[i]] += h;
  total += h;
}
console.log(`code  ${[...Array(10).keys()].map((c) => String(c).padStart(4)).join(' ')}  entropy`);
counts.forEach((row, c) => {
  const m = row.reduce((a, v) => a + v, 0);
  const cells = row.map((v) => String(v).padStart(4)).join(' ');
  console.log(`${String(c).padStart(4)}  ${cells}  ${(entropy[c] / m).toFixed(3)}`);
});
console.log(
  `mean entropy ${(total / n).toFixed(3)} nats, classifier score ${vbn.classifierScore(p).toFixed(2)} (N = ${n})`,
);
z.dispose();
disposeGan(g);
