import { VbnError } from '../errors.js';
import {
  NET_DEFAULTS,
  PADDINGS,
  STRATEGIES,
  type Padding,
  type Strategy,
} from '../model/config.js';
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

/** Training defaults; the network's come from NET_DEFAULTS (the one place they live). */
export const TRAIN_DEFAULTS: Omit<TrainConfig, 'lr'> = {
  filters: [...NET_DEFAULTS.filters],
  kernelSize: NET_DEFAULTS.kernelSize,
  strides: NET_DEFAULTS.strides,
  padding: NET_DEFAULTS.padding,
  mode: NET_DEFAULTS.mode,
  epsilon: NET_DEFAULTS.epsilon,
  stopReferenceGradient: NET_DEFAULTS.stopReferenceGradient,
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

/** Applies TRAIN_DEFAULTS and validates every field with the flag's name. */
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
    padding: oneOf('padding', c.padding, PADDINGS),
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

/** Settings a resumed run may change: they do not alter the network, the data or the optimizer. */
export const RESUMABLE: readonly (keyof TrainConfig)[] = ['epochs', 'checkpointEvery'];

/** The flag of a config field: checkpointEvery -> --checkpoint-every. */
export const flagOf = (field: string): string =>
  `--${field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The one error of a resumed run asked to change what it keeps. */
export function resumeChangeError(
  resume: string,
  flag: string,
  value: unknown,
  was: unknown,
): VbnError {
  return new VbnError(
    `--resume ${resume}: ${flag} ${String(value)} would change the run, which has ${flag} ${String(was ?? 'unset')} (a resumed run keeps its network, data and optimizer; start a new run with --out to change it)`,
  );
}

/**
 * `saved` with the `resumable` fields of `given`. Any other field of `given` that differs from the
 * saved value is refused with its flag (`flag(field)`): a resumed run keeps its network, data
 * order and optimizer. Shared by `vbn train` and `vbn gan`.
 */
export function mergeResumed<T extends object>(
  saved: T,
  given: Partial<T>,
  runDir: string,
  resumable: readonly (keyof T)[],
  flag: (field: string) => string = flagOf,
): T {
  const out = { ...saved };
  for (const [field, value] of Object.entries(stripUndefined(given))) {
    const key = field as keyof T;
    if (resumable.includes(key)) {
      Object.assign(out, { [key]: value });
    } else if (!same(value, saved[key])) {
      throw resumeChangeError(runDir, flag(field), value, saved[key]);
    }
  }
  return out;
}

/** The configuration of a resumed `vbn train` run; `--epochs N` means N epochs in total. */
export function resumeConfig(
  saved: TrainConfig,
  given: Partial<TrainConfig>,
  runDir: string,
): TrainConfig {
  return resolveTrainConfig(mergeResumed(saved, given, runDir, RESUMABLE));
}
