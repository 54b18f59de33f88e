// Trains a GAN recipe for a number of steps and prints the metrics every `every` steps, to compare
// recipes at equal steps or equal time (docs/gan.md, "What limits the score"):
//   node bench/gan-recipe.mjs '{"steps":1800,"every":900,"df":[64,128],"gLr":5e-4,"dLr":5e-4}'
// Keys: steps, every, gLr, dLr, beta1, gf, df (filters), norm, batch, ref, latent, k (kernel), os (outputStride),
// threads (native backend threads; 0: all cores), ema (a decay or a list: also report moving averages of G's weights),
// decay (a fraction f: both learning rates fall linearly to decayTo x their value over the last f of the steps), decayTo,
// smooth (one-sided label smoothing: the discriminator's target for real images), beta2,
// codes (InfoGAN's categorical code, 0: none), info (its loss weight),
// cont (InfoGAN's continuous codes, this bench's own: z's entries uniform in [-1, 1] just before the categorical code;
// the code head's first `cont` outputs are their means), contWeight (their loss weight: contWeight x 0.5 x squared error),
// seed (the networks' initialization and the latents; 0 by default),
// ac (AC-GAN: ganStep's realLabels with labelWeight ac: the code head also learns the real images' labels,
// so code k is tied to digit k; needs codes 10).
// Batches are a fixed stride through the 60000 training digits (not vbn gan's shuffled epochs);
// metrics on 1000 samples from a fixed z against 1000 test images (as vbn gan's per-epoch line).
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';
import { featureGaussian, generateImages, sampleMetrics } from '../dist/gan/evaluate.js';
import { readClassifier } from '../dist/gan/node/classifier-files.js';

const o = {
  steps: 900,
  every: 300,
  gLr: 2e-4,
  dLr: 2e-4,
  beta1: 0.5,
  gf: [64, 32],
  df: [32, 64],
  norm: 'vbn',
  batch: 64,
  ref: 64,
  latent: 64,
  k: 4,
  os: 2,
  ema: 0,
  threads: 0,
  decay: 0,
  decayTo: 0,
  smooth: 1,
  beta2: 0.999,
  codes: 0,
  info: 1,
  cont: 0,
  contWeight: 1,
  seed: 0,
  ac: 0,
  ...JSON.parse(process.argv[2] ?? '{}'),
};
await vbn.useBackend('native', undefined, o.threads ? { threads: o.threads } : {});
tf.enableProdMode();
const data = vbn.loadData({ data: 'mnist', classes: 'all' });
const g = vbn.createGenerator({
  filters: o.gf,
  kernelSize: o.k,
  outputStride: o.os,
  norm: o.norm,
  latentDim: o.latent,
  codes: o.codes,
});
const d = vbn.createDiscriminator({ filters: o.df, kernelSize: o.k, codes: o.codes + o.cont });
const nets = {
  generator: g,
  discriminator: d,
  gParams: g.init(2 * o.seed),
  dParams: d.init(2 * o.seed + 1),
  gOptimizer: tf.train.adam(o.gLr, o.beta1, o.beta2),
  dOptimizer: tf.train.adam(o.dLr, o.beta1, o.beta2),
};
// codes > 0 (InfoGAN): z's last `codes` entries are a one-hot code, recovered by a head on the
// discriminator; info is the code loss's weight.
if (o.codes > 0 && o.smooth !== 1)
  throw new Error('smooth does not support codes (its step has no code loss)');
const latentsOf = (stream, count) => {
  const z = vbn.latents(o.seed, stream, count, o.latent, o.codes);
  if (o.cont === 0) return z;
  const at = o.latent - o.codes - o.cont;
  return tf.tidy(() => {
    const u = tf.randomUniform(
      [count, o.cont],
      -1,
      1,
      'float32',
      7 * stream + 3 + 1000003 * o.seed,
    );
    return tf.concat(
      [tf.slice(z, [0, 0], [-1, at]), u, tf.slice(z, [0, at + o.cont], [-1, -1])],
      1,
    );
  });
};
if (o.cont > 0 && (o.codes === 0 || o.smooth !== 1))
  throw new Error('cont needs codes and no smooth');
// ganStep's order of work with other losses: the discriminator's update on dLossOf(a copy of
// G(z), off the tape), then the generator's on gLossOf(G(z)).
const update = (opt, params, loss) =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, Object.values(params));
    opt.applyGradients(grads);
    return value.dataSync()[0];
  });
const stepWith = (referenceZ, z, dLossOf, gLossOf) => {
  let dLoss = NaN;
  const gLoss = update(nets.gOptimizer, nets.gParams, () => {
    const fake = g.apply(nets.gParams, referenceZ, z);
    const data = tf.tensor(fake.dataSync(), fake.shape);
    dLoss = update(nets.dOptimizer, nets.dParams, () => dLossOf(data));
    return gLossOf(fake);
  });
  return { dLoss, gLoss };
};
// ganStep with continuous codes: the code head's first `cont` outputs regress z's continuous codes.
const contStep = (referenceZ, z, real) => {
  const at = o.latent - o.codes - o.cont;
  const codeLoss = (heads) => {
    const cat = tf.slice(heads.codeLogits, [0, o.cont], [-1, -1]);
    const mean = tf.slice(heads.codeLogits, [0, 0], [-1, o.cont]);
    const c = tf.slice(z, [0, at], [-1, o.cont]);
    const contLoss = tf.mul(tf.mean(tf.sum(tf.square(tf.sub(mean, c)), 1)), 0.5 * o.contWeight);
    return tf.add(tf.mul(vbn.infoLoss(cat, z), o.info), contLoss);
  };
  const { dParams } = nets;
  return stepWith(
    referenceZ,
    z,
    (data) => {
      const f = d.heads(dParams, data);
      return tf.add(vbn.discriminatorLoss(d.apply(dParams, real), f.logits), codeLoss(f));
    },
    (fake) => {
      const f = d.heads(dParams, fake);
      return tf.add(vbn.generatorLoss(f.logits), codeLoss(f));
    },
  );
};
const refZ = o.norm === 'vbn' ? latentsOf(1, o.ref) : null;
const evalZ = latentsOf(2, 1000);
const classifier = readClassifier();
const realGaussian = featureGaussian(classifier, data.val.images, 1000);
const n = data.train.labels.length;
const px = 28 * 28;
const rowOf = (s, r) => (s * 7919 + r * 104729) % n;
const batchOf = (s) =>
  tf.tidy(() => {
    const buf = new Float32Array(o.batch * px);
    for (let r = 0; r < o.batch; r++) {
      const j = rowOf(s, r);
      buf.set(data.train.images.subarray(j * px, (j + 1) * px), r * px);
    }
    return tf.sub(tf.mul(tf.tensor4d(buf, [o.batch, 28, 28, 1]), 2), 1);
  });
const labelsOf = (s) =>
  tf.tensor1d(
    Int32Array.from({ length: o.batch }, (_, r) => data.train.labels[rowOf(s, r)]),
    'int32',
  );
// ema: a decay or a list of them: also keep exponential moving averages of the generator's
// weights (each step: e = decay * e + (1 - decay) * w) and report their metrics.
const decays = [o.ema].flat().filter((d) => d > 0);
const emas = decays.map(() =>
  Object.fromEntries(Object.entries(nets.gParams).map(([k, v]) => [k, tf.variable(v.clone())])),
);
const updateEma = () =>
  tf.tidy(() => {
    decays.forEach((decay, i) => {
      for (const [k, v] of Object.entries(nets.gParams)) {
        const e = emas[i][k];
        e.assign(tf.add(tf.mul(e, decay), tf.mul(v, 1 - decay)));
      }
    });
  });
const metricsOf = (params) =>
  sampleMetrics(classifier, generateImages(g, params, refZ, evalZ), 1000, realGaussian);
// ganStep with one-sided label smoothing: the discriminator's target for real images is o.smooth.
const smoothStep = (referenceZ, z, real) => {
  const { dParams } = nets;
  return stepWith(
    referenceZ,
    z,
    (data) => {
      const r = d.apply(dParams, real);
      const realLoss = tf.add(
        tf.mul(tf.mean(tf.softplus(tf.neg(r))), o.smooth),
        tf.mul(tf.mean(tf.softplus(r)), 1 - o.smooth),
      );
      return tf.add(realLoss, tf.mean(tf.softplus(d.apply(dParams, data))));
    },
    (fake) => tf.mean(tf.softplus(tf.neg(d.apply(dParams, fake)))),
  );
};
// AC-GAN (ac > 0): ganStep's realLabels, the batch's labels `[B]` with weight o.ac: the
// discriminator's code head also classifies the real images, so code k must draw digit k.
if (o.ac > 0 && (o.codes !== 10 || o.cont > 0 || o.smooth !== 1))
  throw new Error('ac needs codes 10, no cont, no smooth');
let trainMs = 0;
for (let s = 1; s <= o.steps; s++) {
  const t = performance.now();
  const batch = batchOf(s);
  const z = latentsOf(100 + s, o.batch);
  const start = (1 - o.decay) * o.steps;
  const f =
    o.decay > 0 && s > start ? 1 - ((1 - o.decayTo) * (s - start)) / (o.decay * o.steps) : 1;
  nets.gOptimizer.learningRate = o.gLr * f;
  nets.dOptimizer.learningRate = o.dLr * f;
  const labels = o.ac > 0 ? labelsOf(s) : null;
  const r =
    o.cont > 0
      ? contStep(refZ, z, batch)
      : o.smooth === 1
        ? vbn.ganStep(nets, refZ, z, batch, {
            infoWeight: o.info,
            ...(labels ? { realLabels: labels, labelWeight: o.ac } : {}),
          })
        : smoothStep(refZ, z, batch);
  tf.dispose([batch, z, labels ?? []].flat());
  updateEma();
  trainMs += performance.now() - t;
  if (s % o.every === 0) {
    const m = metricsOf(nets.gParams);
    const line = {
      step: s,
      trainSeconds: +(trainMs / 1000).toFixed(1),
      dLoss: +r.dLoss.toFixed(3),
      gLoss: +r.gLoss.toFixed(3),
      classifierScore: +m.classifierScore.toFixed(2),
      frechetDistance: +m.frechetDistance.toFixed(1),
      classesCovered: m.classesCovered,
    };
    decays.forEach((decay, i) => {
      const e = metricsOf(emas[i]);
      line[`ema${decay}`] = [
        +e.classifierScore.toFixed(2),
        +e.frechetDistance.toFixed(1),
        e.classesCovered,
      ];
    });
    console.log(JSON.stringify(line));
  }
}
