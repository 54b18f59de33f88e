import { option, pick, type Values } from '../options/schema.js';
import { TRAIN_OPTIONS } from '../train/options.js';
import { BOOLEAN, intRule } from '../vbn/validate.js';

/**
 * What `vbn bench` times, each option declared once: the network and batch options it honours
 * (from TRAIN_OPTIONS, with the training defaults), the image size, the steps and the profile.
 * The parent passes these to each timed child process as flags (toArgs). A new bench option is
 * one entry here.
 */
export const BENCH_OPTIONS = {
  ...pick(TRAIN_OPTIONS, [
    'filters',
    'kernelSize',
    'strides',
    'padding',
    'mode',
    'strategy',
    'batchSize',
    'referenceSize',
  ]),
  imageSize: option({
    flag: '--image-size <n>',
    rule: intRule(1),
    default: 256,
    help: 'images are N x N x 1',
  }),
  steps: option({
    flag: '--steps <n>',
    rule: intRule(1),
    default: 3,
    help: 'timed steps after one warm-up step',
  }),
  profile: option({
    flag: '--profile',
    rule: BOOLEAN,
    default: false,
    help: 'one more step per backend split by pass: forward, backward-data, backward-weights, VBN, other',
  }),
} as const;

export type BenchConfig = Values<typeof BENCH_OPTIONS>;
