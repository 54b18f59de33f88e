import { describe, expect, it } from 'vitest';
import {
  RESUMABLE,
  TRAIN_DEFAULTS,
  mergeResumed,
  resolveTrainConfig,
  resumeConfig,
  TRAIN_OPTIONS,
  type TrainConfig,
} from '../../src/train/config.js';
import { resolveNetConfig, NET_DEFAULTS } from '../../src/model/config.js';
import { errorMessage } from '../support/helpers.js';

/**
 * The training and network resolvers, called directly: their defaults (as README and the
 * seed's code state them, written out here) and every refusal, one per option.
 */

const SEED_DEFAULTS: Omit<TrainConfig, 'lr'> = {
  filters: [16, 32, 64],
  kernelSize: 3,
  strides: 1,
  padding: 'valid',
  mode: 'virtual',
  epsilon: 1e-5,
  stopReferenceGradient: false,
  strategy: 'concat',
  batchSize: 32,
  referenceSize: 32,
  seed: 0,
  epochs: 1,
  optimizer: 'adam',
  loss: 'softmax-cross-entropy',
  checkpointEvery: 0,
};

describe('resolveTrainConfig', () => {
  it('fills every default; the learning rate follows the optimizer', () => {
    expect(resolveTrainConfig({})).toEqual({ ...SEED_DEFAULTS, lr: 1e-3 });
    expect(TRAIN_DEFAULTS).toEqual(SEED_DEFAULTS);
    const lrs = { sgd: 0.05, momentum: 0.01, adam: 1e-3, rmsprop: 1e-3 } as const;
    for (const [optimizer, lr] of Object.entries(lrs)) {
      expect(resolveTrainConfig({ optimizer: optimizer as TrainConfig['optimizer'] }).lr).toBe(lr);
    }
    expect(resolveTrainConfig({ optimizer: 'sgd', lr: 0.3 }).lr).toBe(0.3);
  });

  it('keeps what is given and drops undefined', () => {
    const given = { filters: [4, 8], padding: 'same', batchSize: 7, epochs: undefined } as const;
    const c = resolveTrainConfig({ ...given, filters: [4, 8] });
    expect(c.filters).toEqual([4, 8]);
    expect(c.padding).toBe('same');
    expect(c.batchSize).toBe(7);
    expect(c.epochs).toBe(1);
  });

  // [field, bad value, the message]: one line naming the flag and the rule.
  const refusals: [keyof TrainConfig, unknown, string][] = [
    ['filters', [], '--filters must be a non-empty list of integers >= 1 but is []'],
    ['filters', [16, 0], '--filters must be a non-empty list of integers >= 1 but is [16,0]'],
    ['filters', [2.5], '--filters must be a non-empty list of integers >= 1 but is [2.5]'],
    ['kernelSize', 0, '--kernel-size must be an integer >= 1 but is 0'],
    ['strides', 1.5, '--strides must be an integer >= 1 but is 1.5'],
    ['padding', 'full', `unknown --padding "full" (expected one of 'valid', 'same')`],
    ['mode', 'batch', `unknown --mode "batch" (expected one of 'virtual', 'reference')`],
    ['epsilon', 0, '--epsilon must be a positive finite number but is 0'],
    ['epsilon', Infinity, '--epsilon must be a positive finite number but is Infinity'],
    ['stopReferenceGradient', 'yes', '--stop-reference-gradient must be true or false but is yes'],
    [
      'strategy',
      'three-pass',
      `unknown --strategy "three-pass" (expected one of 'concat', 'two-pass')`,
    ],
    ['batchSize', 0, '--batch-size must be an integer >= 1 but is 0'],
    ['referenceSize', -1, '--reference-size must be an integer >= 1 but is -1'],
    ['seed', -1, '--seed must be an integer >= 0 but is -1'],
    ['epochs', 0, '--epochs must be an integer >= 1 but is 0'],
    [
      'optimizer',
      'adagrad',
      `unknown --optimizer "adagrad" (expected one of 'sgd', 'momentum', 'adam', 'rmsprop')`,
    ],
    ['lr', -0.1, '--lr must be a positive finite number but is -0.1'],
    ['lr', NaN, '--lr must be a positive finite number but is NaN'],
    [
      'loss',
      'mse',
      `unknown --loss "mse" (expected one of 'softmax-cross-entropy', 'sigmoid-cross-entropy', 'hinge')`,
    ],
    ['checkpointEvery', -1, '--checkpoint-every must be an integer >= 0 but is -1'],
  ];
  it.each(refusals)('refuses %s = %s', (field, value, message) => {
    expect(errorMessage(() => resolveTrainConfig({ [field]: value }))).toBe(
      `vbn train: ${message}`,
    );
  });

  it('has a refusal case for every option', () => {
    expect(new Set(refusals.map(([f]) => f))).toEqual(new Set(Object.keys(TRAIN_OPTIONS)));
  });
});

describe('resuming', () => {
  const saved = resolveTrainConfig({ filters: [4, 4], epochs: 2 });
  it('only epochs and checkpointEvery may change', () => {
    expect([...RESUMABLE].sort()).toEqual(['checkpointEvery', 'epochs']);
    const c = resumeConfig(saved, { epochs: 5, checkpointEvery: 3, filters: [4, 4] }, 'run');
    expect(c).toEqual({ ...saved, epochs: 5, checkpointEvery: 3 });
  });
  it('refuses any other change with its flag and the saved value', () => {
    expect(errorMessage(() => resumeConfig(saved, { kernelSize: 5 }, 'run'))).toBe(
      '--resume run: --kernel-size 5 would change the run, which has --kernel-size 3 (a resumed run keeps its network, data and optimizer; start a new run with --out to change it)',
    );
    expect(errorMessage(() => resumeConfig(saved, { stopReferenceGradient: true }, 'r'))).toMatch(
      /^--resume r: --stop-reference-gradient true would change the run/,
    );
  });
  it('mergeResumed takes what may change from the schema it is given', () => {
    const s = { a: 1, b: 2 };
    const schema = {
      a: { flag: '--a <n>', rule: TRAIN_OPTIONS.seed.rule, help: '', resumable: true },
      b: { flag: '--bee <n>', rule: TRAIN_OPTIONS.seed.rule, help: '' },
    };
    expect(mergeResumed(s, { a: 5 }, 'd', schema)).toEqual({ a: 5, b: 2 });
    expect(errorMessage(() => mergeResumed(s, { b: 3 }, 'd', schema))).toMatch(
      /^--resume d: --bee 3 would change the run, which has --bee 2/,
    );
  });
});

describe('resolveNetConfig', () => {
  it('fills the seed network defaults', () => {
    expect(resolveNetConfig({ inputShape: [8, 8, 1] })).toEqual({
      inputShape: [8, 8, 1],
      filters: [16, 32, 64],
      kernelSize: 3,
      strides: 1,
      padding: 'valid',
      numClasses: 2,
      mode: 'virtual',
      epsilon: 1e-5,
      stopReferenceGradient: false,
      dataFormat: 'channelsLast',
    });
    expect(NET_DEFAULTS.filters).toEqual([16, 32, 64]);
  });
  const refusals: [object, string][] = [
    [
      { inputShape: [8, 8] },
      'inputShape must be [H, W, C] (or [C, H, W] for channelsFirst) but is [8,8]',
    ],
    [{ inputShape: [8, 0, 1] }, 'inputShape[1] must be an integer >= 1 but is 0'],
    [{ filters: [] }, 'filters must be a non-empty list of integers >= 1 but is []'],
    [{ kernelSize: 0 }, 'kernelSize must be an integer >= 1 but is 0'],
    [{ strides: 0 }, 'strides must be an integer >= 1 but is 0'],
    [{ padding: 'full' }, `unknown padding "full" (expected one of 'valid', 'same')`],
    [{ numClasses: 0 }, 'numClasses must be an integer >= 1 but is 0'],
    [{ mode: 'x' }, `unknown mode "x" (expected one of 'virtual', 'reference')`],
    [{ epsilon: -1 }, 'epsilon must be a positive finite number but is -1'],
    [{ stopReferenceGradient: 1 }, 'stopReferenceGradient must be true or false but is 1'],
    [
      { dataFormat: 'nhwc' },
      `unknown dataFormat "nhwc" (expected one of 'channelsLast', 'channelsFirst')`,
    ],
    [
      { inputShape: [4, 4, 1], filters: [2, 2] },
      "block 1 would have an empty output (0x0) for input [4,4,1] with kernelSize 3, strides 1, padding 'valid'; use a larger input, fewer filters or 'same' padding",
    ],
  ];
  it.each(refusals)('refuses %j', (config, message) => {
    const c = { inputShape: [8, 8, 1], ...config } as Parameters<typeof resolveNetConfig>[0];
    expect(errorMessage(() => resolveNetConfig(c))).toBe(`createVbnNet: ${message}`);
  });
});
