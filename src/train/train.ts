import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countOf, drawReference, gather, type Dataset } from '../data/dataset.js';
import type { DataOptions, LoadedData } from '../data/load.js';
import { VbnError, shapeString } from '../errors.js';
import { createVbnNet, type Params, type VbnNet } from '../model/net.js';
import { Random } from '../util/random.js';
import {
  pointLink,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
} from './checkpoint.js';
import { resolveTrainConfig, type TrainConfig } from './config.js';
import { evaluate } from './evaluate.js';
import { createOptimizer } from './optimizers.js';
import { optimizerState, restoreOptimizerState } from './optimizer-state.js';
import { NonFiniteLossError, trainStep } from './step.js';

export interface EpochMetrics {
  epoch: number;
  /** Optimizer steps taken so far in the run. */
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training examples per second in this epoch (evaluation excluded). */
  examplesPerSecond: number;
  /** Seconds spent training in this epoch. */
  seconds: number;
}

/** Where a run stands; saved in every checkpoint so that a resumed run continues exactly. */
export interface RunState {
  /** Epochs completed. */
  epoch: number;
  /** Steps done inside the current (incomplete) epoch. */
  stepInEpoch: number;
  /** Steps done in the run. */
  step: number;
  /** Running sums of the current epoch: loss * examples, correct, examples, seconds. */
  partial: { lossSum: number; correct: number; seen: number; seconds: number };
  bestValLoss: number | null;
  history: EpochMetrics[];
}

/** What checkpoint.json holds. */
export interface CheckpointMeta {
  config: TrainConfig;
  data: DataOptions;
  inputShape: [number, number, number];
  classNames: string[];
  backend: string;
  state: RunState;
}

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
  /** Network and optimization settings; defaults from TRAIN_DEFAULTS. */
  config?: Partial<TrainConfig>;
  /** How the data was loaded (recorded so `vbn eval` can load it again). */
  dataOptions?: DataOptions;
  /** Output folder: config.json, metrics.jsonl, checkpoints. Default none (nothing written). */
  outDir?: string;
  /** A given reference batch `[N, H, W, C]` instead of a draw from the training data. */
  reference?: { values: Float32Array; shape: number[]; source: string };
  /** Continue from this checkpoint folder (weights, optimizer, reference, data order, metrics). */
  resumeFrom?: string;
  /** Name of the active backend, recorded in checkpoints. Default tf.getBackend(). */
  backend?: string;
  hooks?: TrainHooks;
}

/** Raised when the loss becomes NaN or infinite; names the step and the last good checkpoint. */
export class TrainingDivergedError extends VbnError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'TrainingDivergedError';
  }
}

/** Order of the training examples in an epoch: a function of the seed and the epoch alone. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new Random((seed * 7919 + epoch * 104729 + 1) >>> 0).shuffle(
    Array.from({ length: n }, (_, i) => i),
  );
}

function makeReference(
  train: Dataset,
  config: TrainConfig,
  given: TrainOptions['reference'],
): tf.Tensor4D {
  if (given) {
    const want = [config.referenceSize, ...train.shape];
    let shape = given.shape;
    if (shape.length === 3) shape = [...shape, 1];
    if (shape.join(',') !== want.join(',')) {
      throw new VbnError(
        `${given.source}: the reference must have shape ${shapeString(want)} (--reference-size ${config.referenceSize} images like the training data) but has shape ${shapeString(given.shape)}`,
      );
    }
    return tf.tensor4d(given.values, want as [number, number, number, number]);
  }
  const idx = drawReference(train, config.referenceSize, config.seed);
  return tf.tensor4d(gather(train, idx), [idx.length, ...train.shape]);
}

/** Trains the VBN network; see TrainOptions. Deterministic for a seed, a backend and a strategy. */
export async function train(data: LoadedData, options: TrainOptions = {}): Promise<TrainSummary> {
  const hooks = options.hooks ?? {};
  const log = hooks.log ?? (() => {});
  let meta: CheckpointMeta | null = null;
  let restored: CheckpointContents<CheckpointMeta> | null = null;
  if (options.resumeFrom) {
    restored = readCheckpoint<CheckpointMeta>(options.resumeFrom);
    meta = restored.meta;
  }
  const config = meta ? meta.config : resolveTrainConfig(options.config ?? {});
  const { train: trainSet, val } = data;
  if (meta && meta.inputShape.join(',') !== trainSet.shape.join(',')) {
    throw new VbnError(
      `--resume: the checkpoint was trained on images ${meta.inputShape.join('x')} but the data has ${trainSet.shape.join('x')}`,
    );
  }
  const net = createVbnNet({
    inputShape: trainSet.shape,
    filters: config.filters,
    kernelSize: config.kernelSize,
    strides: config.strides,
    padding: config.padding,
    numClasses: trainSet.classNames.length,
    mode: config.mode,
    epsilon: config.epsilon,
    stopReferenceGradient: config.stopReferenceGradient,
  });
  const n = countOf(trainSet);
  const stepsPerEpoch = Math.ceil(n / config.batchSize);
  const reference = restored
    ? (restored.reference as tf.Tensor4D)
    : makeReference(trainSet, config, options.reference);
  const params: Params = net.init(config.seed);
  const optimizer = createOptimizer(config.optimizer, config.lr);
  if (restored) {
    for (const name of net.parameterNames) {
      const t = restored.params[name];
      if (!t) throw new VbnError(`${options.resumeFrom}: checkpoint lacks parameter '${name}'`);
      params[name].assign(t);
    }
    tf.dispose(Object.values(restored.params));
    await restoreOptimizerState(optimizer, restored.optimizer);
    tf.dispose(restored.optimizer.map((w) => w.tensor));
  }
  const state: RunState = meta
    ? structuredClone(meta.state)
    : {
        epoch: 0,
        stepInEpoch: 0,
        step: 0,
        partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
        bestValLoss: null,
        history: [],
      };
  const outDir = options.outDir ?? null;
  const backend = options.backend ?? tf.getBackend();
  const checkpointMeta = (): CheckpointMeta => ({
    config,
    data: meta?.data ?? options.dataOptions ?? {},
    inputShape: trainSet.shape,
    classNames: trainSet.classNames,
    backend,
    state: structuredClone(state),
  });
  const save = async (isBest: boolean): Promise<void> => {
    if (!outDir) return;
    const name = `ckpt-${String(state.step).padStart(8, '0')}`;
    await writeCheckpoint(outDir, name, {
      meta: checkpointMeta(),
      params,
      reference,
      optimizer: await optimizerState(optimizer),
    });
    pointLink(outDir, 'last', name);
    if (isBest) pointLink(outDir, 'best', name);
    pruneCheckpoints(outDir, ['last', 'best']);
  };
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    if (!restored) {
      const existing = readdirSync(outDir).filter((f) => !f.startsWith('.'));
      if (existing.some((f) => ['last', 'metrics.jsonl', 'config.json'].includes(f))) {
        throw new VbnError(
          `--out ${outDir}: already holds a run (use --resume ${outDir} to continue it, or another --out)`,
        );
      }
      writeFileSync(join(outDir, 'config.json'), JSON.stringify(checkpointMeta(), null, 2));
    }
    // metrics.jsonl always mirrors the completed epochs of the checkpoint we continue from.
    writeFileSync(
      join(outDir, 'metrics.jsonl'),
      state.history.map((m) => JSON.stringify(m) + '\n').join(''),
    );
  }
  hooks.onStart?.({ stepsPerEpoch, epochs: config.epochs, state, net });
  let interrupted = false;
  const labelsAll = trainSet.labels;
  try {
    while (state.epoch < config.epochs && !interrupted) {
      const order = epochOrder(n, config.seed, state.epoch);
      while (state.stepInEpoch < stepsPerEpoch) {
        const t0 = performance.now();
        const idx = order.slice(
          state.stepInEpoch * config.batchSize,
          (state.stepInEpoch + 1) * config.batchSize,
        );
        const x = tf.tensor4d(gather(trainSet, idx), [idx.length, ...trainSet.shape]);
        const y = tf.tensor1d(
          Int32Array.from(idx, (k) => labelsAll[k]),
          'int32',
        );
        let r;
        try {
          r = trainStep(net, params, optimizer, reference, x, y, {
            strategy: config.strategy,
            loss: config.loss,
          });
        } catch (e) {
          if (e instanceof NonFiniteLossError) {
            const last =
              outDir && existsSync(join(outDir, 'last'))
                ? `${join(outDir, 'last')} (written before step ${state.step + 1})`
                : 'none written';
            throw new TrainingDivergedError(
              `training diverged: the loss became ${e.loss} at step ${state.step + 1} (epoch ${state.epoch + 1}); no update was applied and no checkpoint was overwritten; last good checkpoint: ${last}. Try a lower --lr.`,
            );
          }
          throw e;
        } finally {
          tf.dispose([x, y]);
        }
        state.step++;
        state.stepInEpoch++;
        const p = state.partial;
        p.lossSum += r.loss * idx.length;
        p.correct += r.correct;
        p.seen += idx.length;
        p.seconds += (performance.now() - t0) / 1000;
        hooks.onStep?.({
          epoch: state.epoch + 1,
          stepInEpoch: state.stepInEpoch,
          stepsPerEpoch,
          loss: p.lossSum / p.seen,
          accuracy: p.correct / p.seen,
          examplesPerSecond: p.seen / Math.max(p.seconds, 1e-9),
        });
        // Give the event loop a turn (a macrotask, not a microtask): signal handlers and the
        // progress bar's timers only run there.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (hooks.shouldStop?.()) {
          interrupted = true;
          break;
        }
        if (
          config.checkpointEvery > 0 &&
          state.step % config.checkpointEvery === 0 &&
          state.stepInEpoch < stepsPerEpoch
        ) {
          await save(false);
        }
      }
      if (interrupted && state.stepInEpoch < stepsPerEpoch) {
        await save(false);
        log(outDir ? `interrupted: checkpoint written to ${join(outDir, 'last')}` : 'interrupted');
        break;
      }
      const ev = evaluate(net, params, reference, val, {
        strategy: config.strategy,
        loss: config.loss,
      });
      const p = state.partial;
      const m: EpochMetrics = {
        epoch: state.epoch + 1,
        step: state.step,
        trainLoss: p.lossSum / p.seen,
        trainAccuracy: p.correct / p.seen,
        valLoss: ev.loss,
        valAccuracy: ev.accuracy,
        examplesPerSecond: p.seen / Math.max(p.seconds, 1e-9),
        seconds: p.seconds,
      };
      state.history.push(m);
      state.epoch++;
      state.stepInEpoch = 0;
      state.partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
      const isBest = state.bestValLoss === null || m.valLoss < state.bestValLoss;
      if (isBest) state.bestValLoss = m.valLoss;
      if (outDir) appendFileSync(join(outDir, 'metrics.jsonl'), JSON.stringify(m) + '\n');
      await save(isBest);
      await hooks.onEpoch?.(m, state.history);
      // A stop asked for during the epoch's last step (or its evaluation) ends the run here.
      interrupted = (interrupted || Boolean(hooks.shouldStop?.())) && state.epoch < config.epochs;
      if (interrupted) {
        log(outDir ? `interrupted: checkpoint written to ${join(outDir, 'last')}` : 'interrupted');
      }
    }
  } finally {
    tf.dispose([reference, ...Object.values(params)]);
    optimizer.dispose();
  }
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
