import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  createDiscriminator,
  createGenerator,
  ganOptimizer,
  ganStep,
  infoLoss,
  labelLoss,
  latents,
  type GanStepOptions,
  type GeneratorConfig,
} from 'vbn';
import { savedGanConfig, type GanCheckpointMeta } from '../../src/gan/node/run-state.js';
import { errorMessage, randn, relErr, twinGanNets } from '../support/helpers.js';

/** InfoGAN's categorical code: z's one-hot tail, the discriminator's code head, the loss, the step. */

describe('latents with a categorical code', () => {
  it('keeps the normal draws and appends one-hot codes, uniform over the categories', () => {
    const [count, dim, codes] = [20000, 14, 10];
    const z = latents(3, 7, count, dim, codes);
    const normal = latents(3, 7, count, dim - codes);
    const zs = z.arraySync();
    const ns = normal.arraySync();
    const freq = new Array<number>(codes).fill(0);
    zs.forEach((row, r) => {
      expect(row.slice(0, dim - codes)).toEqual(ns[r]);
      const tail = row.slice(dim - codes);
      expect(tail.filter((v) => v === 1).length + tail.filter((v) => v === 0).length).toBe(codes);
      expect(tail.filter((v) => v === 1).length).toBe(1);
      freq[tail.indexOf(1)] += 1 / count;
    });
    // Binomial standard deviation sqrt(0.1 x 0.9 / 20000) = 0.0021: +-0.01 is ~5 of them.
    for (const f of freq) expect(Math.abs(f - 0.1)).toBeLessThan(0.01);
    const other = latents(3, 8, 50, dim, codes).arraySync();
    const code = (rows: number[][]) =>
      rows.slice(0, 50).map((r) => r.slice(dim - codes).indexOf(1));
    expect(code(other)).not.toEqual(code(zs));
    tf.dispose([z, normal]);
  });
});

/** -mean_b log softmax(logits_b)[c_b] in float64 with log-sum-exp written out. */
function infoLoss64(logits: Float32Array, codes: number[], k: number): number {
  let total = 0;
  codes.forEach((c, b) => {
    const row = Array.from(logits.subarray(b * k, (b + 1) * k));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - row[c];
  });
  return total / codes.length;
}

/**
 * A cross-entropy loss of logits `[B, K]` against the classes `[B]`: ln K for equal logits, and
 * the float64 cross-entropy (log-sum-exp written out) for random ones drawn with `seed`.
 */
function expectCrossEntropy(
  lossOf: (logits: tf.Tensor2D) => tf.Scalar,
  classes: number[],
  k: number,
  seed: number,
) {
  const b = classes.length;
  tf.tidy(() => {
    expect(lossOf(tf.zeros([b, k])).dataSync()[0]).toBeCloseTo(Math.log(k), 6);
    const logits = randn(b * k, seed, 0, 3);
    const loss = lossOf(tf.tensor2d(logits, [b, k])).dataSync()[0];
    expect(relErr([loss], [infoLoss64(logits, classes, k)])).toBeLessThan(1e-6);
  });
}

describe('infoLoss', () => {
  const [b, k, dim] = [6, 5, 8];
  const codes = [0, 4, 2, 2, 1, 3];
  const z = () =>
    tf.tensor2d(
      codes.flatMap((c, r) => [
        ...randn(dim - k, 40 + r),
        ...Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)),
      ]),
      [b, dim],
    );

  it('is ln K for equal logits and the float64 cross-entropy for random ones', () => {
    const zt = z();
    expectCrossEntropy((logits) => infoLoss(logits, zt), codes, k, 41);
    zt.dispose();
  });

  it('has the gradient (softmax - one-hot) / B with respect to the logits', () => {
    const zt = z();
    const logits = randn(b * k, 42, 0, 2);
    const grad = tf.grad((l: tf.Tensor) => infoLoss(l as tf.Tensor2D, zt))(
      tf.tensor2d(logits, [b, k]),
    );
    const expected = codes.flatMap((c, r) => {
      const row = Array.from(logits.subarray(r * k, (r + 1) * k), Number);
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      return e.map((v, j) => (v / s - (j === c ? 1 : 0)) / b);
    });
    expect(relErr(grad.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([zt, grad]);
  });
});

describe('labelLoss', () => {
  const k = 5;
  const labels = [0, 4, 2, 2, 1, 3];

  it('is ln K for equal logits and the float64 cross-entropy for random ones', () => {
    const lt = tf.tensor1d(labels, 'int32');
    expectCrossEntropy((logits) => labelLoss(logits, lt), labels, k, 43);
    lt.dispose();
  });

  it('refuses float labels, a length other than B and labels outside [0, K)', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    const cases: [tf.Tensor1D, string][] = [
      [
        tf.tensor1d([0, 1]),
        'labelLoss: codeLogits [B, K] needs int32 labels [B] but codeLogits is [2,3] and labels are float32 [2]',
      ],
      [
        tf.tensor1d([0, 1, 2], 'int32'),
        'labelLoss: codeLogits [B, K] needs int32 labels [B] but codeLogits is [2,3] and labels are int32 [3]',
      ],
      [
        tf.tensor1d([0, 3], 'int32'),
        "labelLoss: label 3 of row 1 is outside the code head's classes [0, 2]",
      ],
    ];
    for (const [l, message] of cases)
      expect(errorMessage(() => labelLoss(logits, l))).toBe(message);
    tf.dispose([logits, ...cases.map(([l]) => l)]);
  });
});

const G: GeneratorConfig = { latentDim: 6, codes: 3, outputShape: [8, 8, 1], filters: [3, 2] };
const DISCRIMINATOR = { inputShape: [8, 8, 1] as [number, number, number], filters: [2, 3] };

describe("the discriminator's code head", () => {
  it("gives apply's logits and a dense layer of the same features, in one pass", () => {
    const d = createDiscriminator({ ...DISCRIMINATOR, codes: 3, kernelSize: 3 });
    expect(d.parameterShapes['code/kernel']).toEqual([2 * 2 * 3, 3]);
    const p = d.init(2);
    const images = tf.tensor4d(randn(4 * 64, 5).map(Math.tanh), [4, 8, 8, 1]);
    const { logits, codeLogits } = d.heads(p, images);
    const apply = d.apply(p, images);
    expect(Array.from(logits.dataSync())).toEqual(Array.from(apply.dataSync()));
    // The features written out with TensorFlow.js' own leaky ReLU.
    const expected = tf.tidy(() => {
      let x: tf.Tensor4D = images;
      for (const i of [0, 1]) {
        x = tf.leakyRelu(tf.conv2d(x, p[`conv${i}/kernel`] as tf.Tensor4D, 2, 'same'), 0.2);
      }
      const flat = tf.reshape(x, [4, -1]) as tf.Tensor2D;
      return tf.add(tf.matMul(flat, p['code/kernel'] as tf.Tensor2D), p['code/bias']);
    });
    expect(codeLogits!.shape).toEqual([4, 3]);
    expect(relErr(codeLogits!.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    const plainD = createDiscriminator({ ...DISCRIMINATOR, kernelSize: 3 });
    const q = plainD.init(2);
    expect(plainD.heads(q, images).codeLogits).toBeNull();
    tf.dispose([
      images,
      logits,
      codeLogits!,
      apply,
      expected,
      ...Object.values(p),
      ...Object.values(q),
    ]);
  });
});

/**
 * ganStep against its updates written out plainly: the adversarial loss plus weight x the code's
 * cross-entropy in both, and with `labels` also labelWeight x the real images' class
 * cross-entropy in the discriminator's; three steps, the same losses and weights bit for bit
 * (the sums in ganStep's order).
 */
function checkStepWrittenOut(labels: number[] | null) {
  const g = createGenerator({ ...G, kernelSize: 3 });
  const d = createDiscriminator({ ...DISCRIMINATOR, kernelSize: 3, codes: 3 });
  const [fused, plain] = twinGanNets(g, d, 4);
  const refZ = latents(0, 1, 5, 6, 3);
  const real = tf.tensor4d(randn(3 * 64, 22).map(Math.tanh), [3, 8, 8, 1]);
  const realLabels = labels ? tf.tensor1d(labels, 'int32') : undefined;
  const softplus = (t: tf.Tensor) => tf.mean(tf.softplus(t)) as tf.Scalar;
  const ce = (logits: tf.Tensor, oneHot: tf.Tensor) =>
    tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)));
  const [weight, labelWeight] = [0.7, 1.3];
  for (let step = 0; step < 3; step++) {
    const z = latents(0, 30 + step, 3, 6, 3);
    const code = tf.slice(z, [0, 3], [-1, 3]);
    // The adversarial loss plus weight x the code's cross-entropy, from one pass of D.
    const lossOf = (images: tf.Tensor, adversarial: (logits: tf.Tensor) => tf.Scalar) => {
      const { logits, codeLogits } = d.heads(plain.dParams, images);
      return tf.add(adversarial(logits), tf.mul(ce(codeLogits!, code), weight)) as tf.Scalar;
    };
    const count = tf.memory().numTensors;
    const r = ganStep(fused, refZ, z, real, { infoWeight: weight, realLabels, labelWeight });
    // After the first step (which creates Adam's slots) ganStep keeps no tensor.
    if (step > 0) expect(tf.memory().numTensors).toBe(count);
    const p = plain;
    const fake = tf.tidy(() => g.apply(p.gParams, refZ, z));
    // D's loss: -log D(x) - log(1 - D(G(z))) + weight x the code's loss, and with labels
    // labelWeight x the real images' class cross-entropy (one pass of D over them).
    const dStep = p.dOptimizer.minimize(
      () => {
        const rh = d.heads(p.dParams, real);
        const loss = lossOf(fake, (logits) =>
          tf.add(softplus(tf.neg(rh.logits)), softplus(logits)),
        );
        if (!labels) return loss;
        const oneHot = tf.oneHot(realLabels!, 3);
        return tf.add(loss, tf.mul(ce(rh.codeLogits!, oneHot), labelWeight)) as tf.Scalar;
      },
      true,
      Object.values(p.dParams),
    );
    const gStep = p.gOptimizer.minimize(
      () => lossOf(g.apply(p.gParams, refZ, z), (logits) => softplus(tf.neg(logits))),
      true,
      Object.values(p.gParams),
    );
    expect([r.dLoss, r.gLoss]).toEqual([dStep!.dataSync()[0], gStep!.dataSync()[0]]);
    tf.dispose([z, code, fake, dStep!, gStep!]);
  }
  for (const which of ['gParams', 'dParams'] as const) {
    for (const [name, v] of Object.entries(fused[which])) {
      expect(Array.from(v.dataSync()), name).toEqual(Array.from(plain[which][name].dataSync()));
    }
  }
  tf.dispose([refZ, real, ...(realLabels ? [realLabels] : [])]);
}

describe('ganStep with a categorical code', () => {
  it('adds the code loss to both updates: the same updates as written out plainly', () => {
    checkStepWrittenOut(null);
  });

  it("with realLabels adds their class loss to the discriminator's update (AC-GAN)", () => {
    checkStepWrittenOut([2, 0, 1]);
  });

  it('refuses networks whose codes differ, and codes that leave z no normal part', () => {
    const g = createGenerator({ ...G });
    const d = createDiscriminator({ ...DISCRIMINATOR });
    const nets = {
      generator: g,
      discriminator: d,
      gParams: g.init(0),
      dParams: d.init(1),
      gOptimizer: ganOptimizer(),
      dOptimizer: ganOptimizer(),
    };
    const z = latents(0, 1, 2, 6, 3);
    const real = tf.zeros([2, 8, 8, 1]);
    expect(errorMessage(() => ganStep(nets, z, z, real))).toBe(
      "ganStep: the generator's z has 3 codes but the discriminator's code head has 0",
    );
    const plainG = createGenerator({ ...G, codes: 0 });
    const plainNets = { ...nets, generator: plainG, gParams: plainG.init(0) };
    const labels = tf.tensor1d([0, 1], 'int32');
    const z0 = latents(0, 1, 2, 6);
    expect(errorMessage(() => ganStep(plainNets, z0, z0, real, { realLabels: labels }))).toBe(
      'ganStep: realLabels need a code head (codes > 0) to classify the real images',
    );
    expect(errorMessage(() => ganStep(nets, z, z, real, { labelWeight: -1 }))).toBe(
      'ganStep: labelWeight must be a finite number >= 0 but is -1',
    );
    expect(errorMessage(() => ganStep(nets, z, z, real, { infoWeight: NaN }))).toBe(
      'ganStep: infoWeight must be a finite number >= 0 but is NaN',
    );
    // The positional infoWeight of before: a plain JavaScript caller gets one line, not defaults.
    const positional = 0.7 as unknown as GanStepOptions;
    expect(errorMessage(() => ganStep(nets, z, z, real, positional))).toBe(
      'ganStep: options must be an object { infoWeight, realLabels, labelWeight } but is 0.7',
    );
    tf.dispose([labels, z0, ...Object.values(plainNets.gParams)]);
    expect(errorMessage(() => createGenerator({ ...G, codes: 6 }))).toBe(
      'createGenerator: codes 6 must be below latentDim 6 (z needs a normal part)',
    );
    expect(errorMessage(() => createDiscriminator({ codes: -1 }))).toBe(
      'createDiscriminator: codes must be an integer >= 0 but is -1',
    );
    expect(errorMessage(() => latents(0, 1, 2, 6, 6))).toBe(
      'latents: codes must be an integer from 0 to dim - 1 = 5 (z needs a normal part) but is 6',
    );
    const logits = tf.zeros([2, 6]) as tf.Tensor2D;
    expect(errorMessage(() => infoLoss(logits, z as tf.Tensor2D))).toBe(
      'infoLoss: codeLogits [B, K] needs z [B, D] with D > K but codeLogits is [2,6] and z is [2,6]',
    );
    logits.dispose();
    tf.dispose([z, real, ...Object.values(nets.gParams), ...Object.values(nets.dParams)]);
  });
});

describe('checkpoints from before codes, outputStride and labelWeight', () => {
  it('load as what they were: no code, a stride-2 output layer, no labels', () => {
    const config = { norm: 'vbn', latentDim: 64, generatorFilters: [64, 32], lr: 1e-3 };
    const meta = { kind: 'gan', config } as unknown as GanCheckpointMeta;
    const saved = savedGanConfig(meta);
    const fields = (c: typeof saved) => [c.codes, c.outputStride, c.lrDecay, c.dLr, c.labelWeight];
    expect(fields(saved)).toEqual([0, 2, 0, 1e-3, 0]);
    const now = savedGanConfig({
      kind: 'gan',
      config: { ...config, codes: 10, outputStride: 1, lrDecay: 0.5, dLr: 5e-4, labelWeight: 1 },
    } as unknown as GanCheckpointMeta);
    expect(fields(now)).toEqual([10, 1, 0.5, 5e-4, 1]);
  });
});
