import { NET_OPTIONS } from '../model/options.js';
import { STRATEGIES } from '../model/config.js';
import { option } from '../options/schema.js';
import { POSITIVE, intRule, oneOfRule } from '../vbn/validate.js';
import { LOSSES } from './losses.js';
import { DEFAULT_LR, OPTIMIZERS, type OptimizerName } from './optimizers.js';

/**
 * The options of a training run (`vbn train` and the library's train), each declared once: the
 * network's (model/options.ts) and the training's. Saved in config.json and the checkpoints; a
 * resumed run may change only those marked `resumable`.
 */
export const TRAIN_OPTIONS = {
  ...NET_OPTIONS,
  strategy: option({
    flag: '--strategy <s>',
    rule: oneOfRule(STRATEGIES),
    default: 'concat',
    help: 'concat or two-pass',
  }),
  batchSize: option({
    flag: '--batch-size <n>',
    rule: intRule(1),
    default: 32,
    help: 'input examples per step',
  }),
  referenceSize: option({
    flag: '--reference-size <n>',
    rule: intRule(1),
    default: 32,
    help: 'reference batch size N',
  }),
  seed: option({
    flag: '--seed <n>',
    rule: intRule(0),
    default: 0,
    help: 'seed of initialization, reference draw and data order',
  }),
  epochs: option({
    flag: '--epochs <n>',
    rule: intRule(1),
    default: 1,
    help: 'epochs (in total when resuming)',
    resumable: true,
  }),
  optimizer: option<OptimizerName>({
    flag: '--optimizer <name>',
    rule: oneOfRule(OPTIMIZERS),
    default: 'adam',
    help: OPTIMIZERS.join('|'),
  }),
  lr: option({
    flag: '--lr <rate>',
    rule: POSITIVE,
    default: (c) => DEFAULT_LR[c.optimizer as OptimizerName],
    shownDefault: OPTIMIZERS.map((o) => `${o} ${DEFAULT_LR[o]}`).join(', '),
    help: 'learning rate',
  }),
  loss: option({
    flag: '--loss <name>',
    rule: oneOfRule(LOSSES),
    default: 'softmax-cross-entropy',
    help: LOSSES.join('|'),
  }),
  checkpointEvery: option({
    flag: '--checkpoint-every <n>',
    rule: intRule(0),
    default: 0,
    help: 'also checkpoint every N steps (0: after each epoch only)',
    resumable: true,
  }),
} as const;
