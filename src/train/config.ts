import { VbnError } from '../errors.js';
import { STRATEGIES, type Padding, type Strategy } from '../model/config.js';
import { VBN_MODES, type VbnMode } from '../vbn/options.js';
import { LOSSES, type LossName } from './losses.js';
import { DEFAULT_LR, OPTIMIZERS, type OptimizerName } from './optimizers.js';

/** Everything that defines a training run besides its data. Saved in config.json and checkpoints. */
export interface TrainConfig {
  /** Filters of the conv -> VBN -> ReLU blocks. Default [16, 32, 64]. */
  filters: number[];
  /** Conv kernel size. Default 3. */
  kernelSize: number;
  /** Conv stride. Default 1. */
  strides: number;
  /** Conv padding. Default 'valid'. */
  padding: Padding;
  /** VBN mode. Default 'virtual'. */
  mode: VbnMode;
  /** VBN epsilon. Default 1e-5. */
  epsilon: number;
  /** Stop gradients through the reference statistics. Default false. */
  stopReferenceGradient: boolean;
  /** 'concat' or 'two-pass'. Default 'concat'. */
  strategy: Strategy;
  /** Optimizer. Default 'adam'. */
  optimizer: OptimizerName;
  /** Learning rate. Default: the optimizer's (adam 1e-3, sgd 0.05, momentum 0.01, rmsprop 1e-3). */
  lr: number;
  /** Loss. Default 'softmax-cross-entropy'. */
  loss: LossName;
  /** Input examples per step. Default 32. */
  batchSize: number;
  /** Epochs. Default 1. */
  epochs: number;
  /** Seed of initialization, reference draw and data order. Default 0. */
  seed: number;
  /** Reference batch size N. Default 32. */
  referenceSize: number;
  /** Also checkpoint every this many steps (0: only after each epoch). Default 0. */
  checkpointEvery: number;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'lr'> = {
  filters: [16, 32, 64],
  kernelSize: 3,
  strides: 1,
  padding: 'valid',
  mode: 'virtual',
  epsilon: 1e-5,
  stopReferenceGradient: false,
  strategy: 'concat',
  optimizer: 'adam',
  loss: 'softmax-cross-entropy',
  batchSize: 32,
  epochs: 1,
  seed: 0,
  referenceSize: 32,
  checkpointEvery: 0,
};

function oneOf<T extends string>(flag: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) {
    throw new VbnError(`--${flag}: expected one of ${allowed.join(', ')} but got '${String(v)}'`);
  }
  return v as T;
}

function int(flag: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new VbnError(`--${flag}: expected an integer >= ${min} but got '${String(v)}'`);
  }
  return v;
}

/** Applies defaults (the only place) and validates every field with the flag's name. */
export function resolveTrainConfig(partial: Partial<TrainConfig>): TrainConfig {
  const c = { ...TRAIN_DEFAULTS, ...stripUndefined(partial) };
  const optimizer = oneOf('optimizer', c.optimizer, OPTIMIZERS);
  const lr = partial.lr ?? DEFAULT_LR[optimizer];
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) {
    throw new VbnError(`--lr: expected a positive number but got '${String(lr)}'`);
  }
  if (!Array.isArray(c.filters) || c.filters.length === 0) {
    throw new VbnError(`--filters: expected a comma list of positive integers like 16,32,64`);
  }
  c.filters.forEach((f) => int('filters', f, 1));
  if (typeof c.epsilon !== 'number' || !(c.epsilon > 0)) {
    throw new VbnError(`--epsilon: expected a positive number but got '${String(c.epsilon)}'`);
  }
  return {
    filters: c.filters,
    kernelSize: int('kernel-size', c.kernelSize, 1),
    strides: int('strides', c.strides, 1),
    padding: oneOf('padding', c.padding, ['valid', 'same'] as const),
    mode: oneOf('mode', c.mode, VBN_MODES),
    epsilon: c.epsilon,
    stopReferenceGradient: Boolean(c.stopReferenceGradient),
    strategy: oneOf('strategy', c.strategy, STRATEGIES),
    optimizer,
    lr,
    loss: oneOf('loss', c.loss, LOSSES),
    batchSize: int('batch-size', c.batchSize, 1),
    epochs: int('epochs', c.epochs, 1),
    seed: int('seed', c.seed, 0),
    referenceSize: int('reference-size', c.referenceSize, 1),
    checkpointEvery: int('checkpoint-every', c.checkpointEvery, 0),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
