import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../backend/node/select.js';
import { resolveGanTrainConfig, type GanTrainConfig } from '../gan/config.js';
import { latents } from '../gan/evaluate.js';
import { networksOf } from '../gan/networks.js';
import { ganOptimizer, ganStep, type GanNetworks } from '../gan/step.js';
import { tfSeed } from '../util/random.js';
import { timeSteps } from './bench-run.js';

/**
 * `vbn bench --gan`: `vbn gan`'s default training step (the discriminator's update, then the
 * generator's, on a batch of real images with their labels), timed in this process.
 * bench/torch_gan_step.py is the same step in PyTorch.
 */

/** One timed child: `steps` steps after 3 warm-ups, in seconds. */
export interface StepTimes {
  backend: string;
  best: number;
  median: number;
  times: number[];
  /** Process CPU time (user + system) of each step, in seconds. */
  cpuTimes: number[];
  peakRssMB: number;
}

const IMAGE: [number, number, number] = [28, 28, 1];

/**
 * Multiply-add FLOPs of the convolutions and matrix products in one default GAN step (2 per
 * multiply-add): the generator forward over reference and batch rows for its hidden layers and
 * the batch rows for its output layer, its backward (data and weights; no data gradient for
 * the dense layer's z); the discriminator's update on the real and the generated batch (forward,
 * weights, data gradients but the first layer's); the generator's update through the updated
 * discriminator (forward and data gradients, no weights).
 */
export function ganFlopsPerStep(c: GanTrainConfig): number {
  const [h, w, ch] = IMAGE;
  const k2 = c.kernelSize * c.kernelSize;
  const gRows = c.batchSize + (c.norm === 'vbn' ? c.referenceSize : 0);
  const gf = c.generatorFilters;
  const ups = gf.length - 1 + (c.outputStride === 2 ? 1 : 0);
  let [gh, gw] = [h / 2 ** ups, w / 2 ** ups];
  let g = 2 * 2 * gRows * c.latentDim * gh * gw * gf[0]; // dense: forward + weights
  for (let i = 1; i < gf.length; i++) {
    g += 3 * 2 * gRows * gh * gw * gf[i - 1] * gf[i] * k2; // per input pixel of the transposed conv
    [gh, gw] = [2 * gh, 2 * gw];
  }
  g += 3 * 2 * c.batchSize * gh * gw * gf[gf.length - 1] * ch * k2;
  let [dh, dw, cin] = [h, w, ch];
  const layers: number[] = [];
  for (const f of c.discriminatorFilters) {
    [dh, dw] = [Math.ceil(dh / 2), Math.ceil(dw / 2)];
    layers.push(2 * c.batchSize * dh * dw * cin * f * k2);
    cin = f;
  }
  layers.push(2 * c.batchSize * dh * dw * cin * (1 + c.codes));
  const dForward = layers.reduce((a, b) => a + b, 0);
  const dUpdate = 2 * (3 * dForward - layers[0]);
  return g + dUpdate + 2 * dForward;
}

/**
 * `vbn gan`'s training step (its defaults, or with `overrides`) on the current backend, as
 * `vbn gan` runs it: one batch of real images and labels, drawn once, and fixed latents. Also
 * the step bench/gan-step.mjs and bench/gan-elementwise-ab.mjs time.
 */
export function ganBenchStep(overrides: Partial<GanTrainConfig> = {}): () => void {
  const c = resolveGanTrainConfig(overrides);
  const { generator, discriminator } = networksOf(c, IMAGE);
  const nets: GanNetworks = {
    generator,
    discriminator,
    gParams: generator.init(c.seed),
    dParams: discriminator.init(c.seed + 1),
    gOptimizer: ganOptimizer(c.lr, c.beta1),
    dOptimizer: ganOptimizer(c.dLr, c.beta1),
  };
  const refZ = latents(c.seed, 1, c.referenceSize, c.latentDim, c.codes);
  const z = latents(c.seed, 2, c.batchSize, c.latentDim, c.codes);
  const real = tf.randomUniform([c.batchSize, ...IMAGE], -1, 1, 'float32', tfSeed(c.seed, 3));
  const labels =
    c.codes > 0
      ? (tf.randomUniform([c.batchSize], 0, c.codes, 'int32', tfSeed(c.seed, 4)) as tf.Tensor1D)
      : undefined;
  return () =>
    void ganStep(nets, c.norm === 'vbn' ? refZ : null, z, real, {
      realLabels: labels,
      labelWeight: c.labelWeight,
    });
}

/** The default `vbn gan` step on `backend`: `steps` timed steps after 3 warm-ups. */
export async function runGanChild(backend: BackendName, steps: number): Promise<StepTimes> {
  await useBackend(backend);
  const step = ganBenchStep();
  for (let i = 0; i < 3; i++) step();
  const timed = timeSteps(step, steps, 'bench --gan');
  return {
    backend,
    ...timed,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

/** The default `vbn gan` configuration's step, as bench/torch_gan_step.py reads it. */
export function torchGanArgs(steps: number): string {
  const c = resolveGanTrainConfig({});
  return JSON.stringify({ batchSize: c.batchSize, referenceSize: c.referenceSize, steps });
}

/** A one-line description of the step for the report. */
export function ganStepDescription(): string {
  const c = resolveGanTrainConfig({});
  return `vbn gan's default step: G ${c.generatorFilters.join('/')} (${c.norm}, ${c.referenceSize} reference latents), D ${c.discriminatorFilters.join('/')} + ${c.codes}-way code head, batch ${c.batchSize} of 28x28x1 with labels, Adam`;
}
