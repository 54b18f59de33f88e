import { option } from '../options/schema.js';
import { VBN_MODES } from '../vbn/options.js';
import {
  BELOW_ONE,
  INT_LIST,
  NON_NEGATIVE,
  POSITIVE,
  UNIT_INTERVAL,
  intRule,
  oneOfRule,
} from '../vbn/validate.js';

/** How the generator normalizes its hidden activations. */
export type GanNorm = 'vbn' | 'bn' | 'none';
export const GAN_NORMS: readonly GanNorm[] = ['vbn', 'bn', 'none'];

/**
 * The options of a GAN run (`vbn gan`), each declared once; saved in its checkpoints. Why each
 * default is what it is: docs/gan.md ("The defaults").
 */
export const GAN_OPTIONS = {
  norm: option<GanNorm>({
    flag: '--norm <norm>',
    rule: oneOfRule(GAN_NORMS),
    default: 'vbn',
    help: `generator norm: ${GAN_NORMS.join('|')}`,
  }),
  mode: option({
    flag: '--mode <mode>',
    rule: oneOfRule(VBN_MODES),
    default: 'virtual',
    help: 'VBN mode: virtual or reference',
  }),
  latentDim: option({
    flag: '--latent-dim <n>',
    rule: intRule(1),
    default: 64,
    help: 'length of z',
  }),
  codes: option({
    flag: '--codes <n>',
    rule: intRule(0),
    default: 10,
    help: "categories of z's one-hot code, recovered by a head on the discriminator (InfoGAN); 0: none",
  }),
  labelWeight: option({
    flag: '--label-weight <w>',
    rule: NON_NEGATIVE,
    default: 1,
    help: "weight of the real images' class loss on the code head (AC-GAN: code k draws class k; needs --codes = the classes); 0: an unsupervised code",
  }),
  generatorFilters: option({
    flag: '--filters <list>',
    rule: INT_LIST,
    default: [64, 32, 16],
    help: 'generator block channels',
  }),
  discriminatorFilters: option({
    flag: '--d-filters <list>',
    rule: INT_LIST,
    default: [32, 64, 128],
    help: 'discriminator block channels',
  }),
  kernelSize: option({
    flag: '--kernel-size <n>',
    rule: intRule(1),
    default: 4,
    help: 'kernel of every (transposed) conv',
  }),
  outputStride: option<1 | 2>({
    flag: '--output-stride <s>',
    rule: oneOfRule([1, 2] as const),
    default: 1,
    help: "the generator's output layer: 2 (an upsampling) or 1 (a layer at full size after the last block)",
  }),
  batchSize: option({
    flag: '--batch-size <n>',
    rule: intRule(1),
    default: 64,
    help: 'real and generated images per step',
  }),
  referenceSize: option({
    flag: '--reference-size <n>',
    rule: intRule(1),
    default: 64,
    help: 'reference latents N',
  }),
  epochs: option({
    flag: '--epochs <n>',
    rule: intRule(1),
    default: 4,
    help: 'epochs in total',
    resumable: true,
  }),
  lr: option({
    flag: '--lr <rate>',
    rule: POSITIVE,
    default: 1e-3,
    help: "the generator's Adam learning rate",
  }),
  dLr: option({
    flag: '--d-lr <rate>',
    rule: POSITIVE,
    default: 5e-4,
    help: "the discriminator's Adam learning rate",
  }),
  lrDecay: option({
    flag: '--lr-decay <fraction>',
    rule: UNIT_INTERVAL,
    default: 0.5,
    help: 'both learning rates fall linearly to 0 over this last fraction of the steps; 0: constant',
  }),
  beta1: option({ flag: '--beta1 <b>', rule: BELOW_ONE, default: 0.5, help: 'Adam beta1' }),
  seed: option({ flag: '--seed <n>', rule: intRule(0), default: 0, help: 'random seed' }),
  evalSamples: option({
    flag: '--eval-samples <n>',
    rule: intRule(2),
    default: 1000,
    help: 'samples for the per-epoch metrics',
  }),
  checkpointEvery: option({
    flag: '--checkpoint-every <n>',
    rule: intRule(0),
    default: 0,
    help: 'also checkpoint every N steps (0: at the end of each epoch only)',
    resumable: true,
  }),
} as const;
