import * as tf from '@tensorflow/tfjs-core';
import { countOf, gather, type Dataset } from '../../data/dataset.js';
import type { DataOptions, LoadedData } from '../../data/node/load.js';
import type { VbnNet } from '../../model/net.js';
import type { TrainConfig } from '../config.js';
import { evaluate } from '../evaluate.js';
import { optimizerState } from '../../run/optimizer-state.js';
import { divergedError } from '../../run/diverged.js';
import { runEpochs } from '../../run/epoch-loop.js';
import { RunFolder } from '../../run/node/run-folder.js';
import {
  disposeSession,
  newSession,
  resumeSession,
  type GivenReference,
  type Session,
} from './session.js';
import {
  closeEpoch,
  recordStep,
  type CheckpointMeta,
  type EpochMetrics,
  type RunState,
} from './state.js';
import { NonFiniteLossError, trainStep } from '../step.js';

export type { CheckpointMeta, EpochMetrics, RunState } from './state.js';
export { TrainingDivergedError } from '../../run/diverged.js';

export interface TrainSummary {
  valAccuracy: number;
  valLoss: number;
  trainLoss: number;
  trainAccuracy: number;
  epochs: number;
  steps: number;
  seconds: number;
  interrupted: boolean;
  outDir: string | null;
}

export interface StepProgress {
  epoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  loss: number;
  accuracy: number;
  examplesPerSecond: number;
}

/** Callbacks of a run; all optional. */
export interface TrainHooks {
  /** Once, before the first step (after a resume, from where it resumes). */
  onStart?(info: { stepsPerEpoch: number; epochs: number; state: RunState; net: VbnNet }): void;
  /** After every step, with the running means of the epoch. */
  onStep?(p: StepProgress): void;
  /** After each epoch's evaluation and checkpoint. */
  onEpoch?(m: EpochMetrics, history: EpochMetrics[]): void | Promise<void>;
  /** Polled after every step: true finishes the step, writes a checkpoint and stops. */
  shouldStop?(): boolean;
  /** One-line notes (e.g. where a checkpoint went). */
  log?(line: string): void;
}

export interface TrainOptions {
  /**
   * Network and optimization settings; defaults from TRAIN_DEFAULTS. With `resumeFrom`, only
   * `epochs` (the total) and `checkpointEvery` may differ from the run's; others are refused.
   */
  config?: Partial<TrainConfig>;
  /** How the data was loaded (recorded so `vbn eval` can load it again). */
  dataOptions?: DataOptions;
  /** Output folder: config.json, metrics.jsonl, checkpoints. Default none (nothing written). */
  outDir?: string;
  /** A given reference batch `[N, H, W, C]` instead of a draw from the training data. */
  reference?: GivenReference;
  /** Continue from this checkpoint folder (weights, optimizer, reference, data order, metrics). */
  resumeFrom?: string;
  /** Name of the active backend, recorded in checkpoints. Default tf.getBackend(). */
  backend?: string;
  hooks?: TrainHooks;
}

/** One run in progress: the session, its folder, its data and hooks. */
interface Run {
  s: Session;
  folder: RunFolder;
  train: Dataset;
  val: Dataset;
  stepsPerEpoch: number;
  hooks: TrainHooks;
  meta(): CheckpointMeta;
}

/** Trains the VBN network; see TrainOptions. Deterministic for a seed, a backend and a strategy. */
export async function train(data: LoadedData, options: TrainOptions = {}): Promise<TrainSummary> {
  const s = options.resumeFrom
    ? await resumeSession(data, options.resumeFrom, options.config)
    : newSession(data, {
        config: options.config,
        data: options.dataOptions,
        reference: options.reference,
      });
  const backend = options.backend ?? tf.getBackend();
  const run: Run = {
    s,
    folder: new RunFolder(options.outDir ?? null),
    train: data.train,
    val: data.val,
    stepsPerEpoch: Math.ceil(countOf(data.train) / s.config.batchSize),
    hooks: options.hooks ?? {},
    meta: () => ({
      config: s.config,
      data: s.data,
      inputShape: data.train.shape,
      classNames: data.train.classNames,
      backend,
      state: structuredClone(s.state),
    }),
  };
  let interrupted: boolean;
  try {
    run.folder.open(run.meta(), Boolean(options.resumeFrom));
    const { stepsPerEpoch, hooks } = run;
    hooks.onStart?.({ stepsPerEpoch, epochs: s.config.epochs, state: s.state, net: s.net });
    interrupted = await runEpochs({
      position: s.state,
      epochs: s.config.epochs,
      stepsPerEpoch,
      checkpointEvery: s.config.checkpointEvery,
      examples: countOf(run.train),
      seed: s.config.seed,
      step: (order) => oneStep(run, order),
      endEpoch: () => endEpoch(run),
      checkpoint: () => save(run, false),
      shouldStop: () => Boolean(hooks.shouldStop?.()),
    });
    if (interrupted) hooks.log?.(run.folder.describeStop());
  } finally {
    disposeSession(s);
  }
  return summarize(s.state, interrupted, run.folder.dir);
}

function save(run: Run, isBest: boolean): Promise<void> {
  const { params, reference, optimizer } = run.s;
  return run.folder.save(
    run.meta(),
    { params, reference, optimizer: () => optimizerState(optimizer) },
    isBest,
  );
}

/** One optimizer step on the next batch of `order`; a non-finite loss ends the run. */
function oneStep(run: Run, order: number[]): void {
  const { s, train } = run;
  const t0 = performance.now();
  const { batchSize } = s.config;
  const idx = order.slice(s.state.stepInEpoch * batchSize, (s.state.stepInEpoch + 1) * batchSize);
  const x = tf.tensor4d(gather(train, idx), [idx.length, ...train.shape]);
  const y = tf.tensor1d(
    Int32Array.from(idx, (k) => train.labels[k]),
    'int32',
  );
  let r;
  try {
    r = trainStep(s.net, s.params, s.optimizer, s.reference, x, y, {
      strategy: s.config.strategy,
      loss: s.config.loss,
    });
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    const last = run.folder.describeLast(s.state.step + 1);
    throw divergedError('training', { name: 'loss', value: e.loss }, s.state, last);
  } finally {
    tf.dispose([x, y]);
  }
  const seconds = (performance.now() - t0) / 1000;
  recordStep(s.state, { ...r, examples: idx.length, seconds });
  const p = s.state.partial;
  run.hooks.onStep?.({
    epoch: s.state.epoch + 1,
    stepInEpoch: s.state.stepInEpoch,
    stepsPerEpoch: run.stepsPerEpoch,
    loss: p.lossSum / p.seen,
    accuracy: p.correct / p.seen,
    examplesPerSecond: p.seen / Math.max(p.seconds, 1e-9),
  });
}

/** Evaluates on the validation set, records the epoch, checkpoints (`best` when it is). */
async function endEpoch(run: Run): Promise<void> {
  const { s } = run;
  const ev = evaluate(s.net, s.params, s.reference, run.val, {
    strategy: s.config.strategy,
    loss: s.config.loss,
  });
  const { metrics, isBest } = closeEpoch(s.state, ev);
  run.folder.appendMetrics(metrics);
  await save(run, isBest);
  await run.hooks.onEpoch?.(metrics, s.state.history);
}

function summarize(state: RunState, interrupted: boolean, outDir: string | null): TrainSummary {
  const last = state.history[state.history.length - 1];
  return {
    valAccuracy: last?.valAccuracy ?? NaN,
    valLoss: last?.valLoss ?? NaN,
    trainLoss: last?.trainLoss ?? NaN,
    trainAccuracy: last?.trainAccuracy ?? NaN,
    epochs: state.epoch,
    steps: state.step,
    seconds: state.history.reduce((a, h) => a + h.seconds, 0) + state.partial.seconds,
    interrupted,
    outDir,
  };
}
