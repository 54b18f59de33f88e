import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { countOf, gather } from '../../data/dataset.js';
import type { DataOptions, LoadedData } from '../../data/node/load.js';
import { divergedError } from '../../run/diverged.js';
import { runEpochs } from '../../run/epoch-loop.js';
import { optimizersState } from '../../run/optimizer-state.js';
import { RunFolder } from '../../run/node/run-folder.js';
import { learningRateAt, type GanTrainConfig } from '../config.js';
import {
  featureGaussian,
  generateImages,
  latents,
  sampleMetrics,
  type SampleMetrics,
} from '../evaluate.js';
import { NonFiniteGanLossError, ganStep, type GanStepResult } from '../step.js';
import { readClassifier } from './classifier-files.js';
import { writeGrid } from './grid.js';
import { joinParams } from '../networks.js';
import type { GanCheckpointMeta, GanEpochMetrics, GanRunState } from './run-state.js';
import { STREAMS, openGanRun, optimizersOf, type GanRun } from './session.js';

export interface GanHooks {
  onStart?(info: { stepsPerEpoch: number; epochs: number; state: GanRunState }): void;
  onStep?(p: {
    epoch: number;
    stepInEpoch: number;
    stepsPerEpoch: number;
    dLoss: number;
    gLoss: number;
  }): void;
  /** After each epoch's evaluation, checkpoint and sample grid. */
  onEpoch?(m: GanEpochMetrics, state: GanRunState): void | Promise<void>;
  shouldStop?(): boolean;
  log?(line: string): void;
}

export interface GanTrainOptions {
  config?: Partial<GanTrainConfig>;
  dataOptions?: DataOptions;
  /** Output folder; nothing is written without one. */
  outDir?: string;
  resumeFrom?: string;
  backend?: string;
  hooks?: GanHooks;
}

export interface GanSummary {
  epochs: number;
  steps: number;
  seconds: number;
  interrupted: boolean;
  last: GanEpochMetrics | null;
  outDir: string | null;
}

/** Real images `[B, H, W, C]` of the epoch's k-th batch, scaled to [-1, 1], and their labels `[B]`. */
export function realBatch(
  data: LoadedData,
  order: number[],
  k: number,
  size: number,
): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const idx = order.slice(k * size, (k + 1) * size);
  const images = tf.tidy((): tf.Tensor4D =>
    tf.sub(tf.mul(tf.tensor4d(gather(data.train, idx), [idx.length, ...data.train.shape]), 2), 1),
  );
  const labels = tf.tensor1d(
    Int32Array.from(idx, (i) => data.train.labels[i]),
    'int32',
  );
  return { images, labels };
}

/** Everything a running GAN run needs beyond its GanRun. */
interface Session extends GanRun {
  data: LoadedData;
  folder: RunFolder;
  hooks: GanHooks;
  stepsPerEpoch: number;
  /** Fixed latents: the sample grid's 100, and the per-epoch metrics' evalCount. */
  gridZ: tf.Tensor2D;
  evalZ: tf.Tensor2D;
  evalCount: number;
  meta(): GanCheckpointMeta;
}

/** Writes checkpoint `ckpt-<step>`: both networks, both optimizers, the reference z. */
function save(s: Session): Promise<void> {
  const optimizer = () => optimizersState(optimizersOf(s.nets));
  const params = joinParams(s.nets.gParams, s.nets.dParams);
  return s.folder.save(s.meta(), { params, reference: s.referenceZ, optimizer }, false);
}

const referenceOf = (s: Session) => (s.config.norm === 'vbn' ? s.referenceZ : null);

/** One GAN step on the epoch's next real batch; updates the run state. */
function step(s: Session, order: number[]): void {
  const { config, state } = s;
  const t0 = performance.now();
  const { images, labels } = realBatch(s.data, order, state.stepInEpoch, config.batchSize);
  const z = latents(
    config.seed,
    STREAMS.step + state.step,
    images.shape[0],
    config.latentDim,
    config.codes,
  );
  const total = config.epochs * s.stepsPerEpoch;
  s.adams.g.setLearningRate(learningRateAt(config.lr, state.step, total, config.lrDecay));
  s.adams.d.setLearningRate(learningRateAt(config.dLr, state.step, total, config.lrDecay));
  let r: GanStepResult;
  try {
    r = ganStep(s.nets, referenceOf(s), z, images, {
      realLabels: config.labelWeight > 0 ? labels : undefined,
      labelWeight: config.labelWeight,
    });
  } catch (e) {
    if (!(e instanceof NonFiniteGanLossError)) throw e;
    const loss = { name: `${e.which} loss`, value: e.loss };
    throw divergedError('GAN training', loss, state, s.folder.describeLast(state.step + 1));
  } finally {
    tf.dispose([images, labels, z]);
  }
  state.step++;
  state.stepInEpoch++;
  state.dLosses.push(r.dLoss);
  state.gLosses.push(r.gLoss);
  state.seconds += (performance.now() - t0) / 1000;
  s.hooks.onStep?.({
    epoch: state.epoch + 1,
    stepInEpoch: state.stepInEpoch,
    stepsPerEpoch: s.stepsPerEpoch,
    ...r,
  });
}

/** The epoch's metrics, metrics.jsonl, the sample grids, a checkpoint, then onEpoch. */
async function endEpoch(s: Session): Promise<void> {
  const { state, nets } = s;
  const images = generateImages(nets.generator, nets.gParams, referenceOf(s), s.evalZ);
  const sm = evaluateSamples(images, s.evalCount, s.data.val.images);
  const mean = (a: number[]) =>
    a.slice(-s.stepsPerEpoch).reduce((sum, v) => sum + v, 0) / s.stepsPerEpoch;
  const m: GanEpochMetrics = {
    epoch: state.epoch + 1,
    step: state.step,
    dLoss: mean(state.dLosses),
    gLoss: mean(state.gLosses),
    classifierScore: sm.classifierScore,
    frechetDistance: sm.frechetDistance,
    classesCovered: sm.classesCovered,
    seconds: state.seconds,
    lr: s.adams.g.getLearningRate(),
    dLr: s.adams.d.getLearningRate(),
  };
  state.history.push(m);
  state.epoch++;
  state.stepInEpoch = 0;
  state.seconds = 0;
  s.folder.appendMetrics(m);
  if (s.folder.dir) {
    const grid = generateImages(nets.generator, nets.gParams, referenceOf(s), s.gridZ);
    const [h, w] = s.data.train.shape;
    writeGrid(join(s.folder.dir, `samples-epoch-${m.epoch}.png`), grid, 100, h, w);
    writeGrid(join(s.folder.dir, 'samples.png'), grid, 100, h, w);
  }
  await save(s);
  await s.hooks.onEpoch?.(m, state);
}

/** Trains a GAN on `data.train`; metrics against `data.val`. Deterministic for a seed and a backend. */
export async function trainGan(
  data: LoadedData,
  options: GanTrainOptions = {},
): Promise<GanSummary> {
  const hooks = options.hooks ?? {};
  const run = await openGanRun(data, options);
  const { config, state } = run;
  const backend = options.backend ?? tf.getBackend();
  const evalCount = Math.min(config.evalSamples, countOf(data.val));
  const s: Session = {
    ...run,
    data,
    folder: new RunFolder(options.outDir ?? null),
    hooks,
    stepsPerEpoch: Math.ceil(countOf(data.train) / config.batchSize),
    gridZ: latents(config.seed, STREAMS.grid, 100, config.latentDim, config.codes),
    evalZ: latents(config.seed, STREAMS.eval, evalCount, config.latentDim, config.codes),
    evalCount,
    meta: () => ({
      kind: 'gan',
      config,
      data: run.meta?.data ?? options.dataOptions ?? {},
      imageShape: data.train.shape,
      backend,
      state: structuredClone(state),
    }),
  };
  let interrupted: boolean;
  try {
    tf.dispose(Object.values(readClassifier())); // fails early, before anything is written
    s.folder.open(s.meta(), run.meta !== null);
    hooks.onStart?.({ stepsPerEpoch: s.stepsPerEpoch, epochs: config.epochs, state });
    interrupted = await runEpochs({
      position: state,
      epochs: config.epochs,
      stepsPerEpoch: s.stepsPerEpoch,
      checkpointEvery: config.checkpointEvery,
      examples: countOf(data.train),
      seed: config.seed,
      step: (order) => step(s, order),
      endEpoch: () => endEpoch(s),
      checkpoint: () => save(s),
      shouldStop: () => Boolean(hooks.shouldStop?.()),
    });
    if (interrupted) hooks.log?.(s.folder.describeStop());
  } finally {
    disposeSession(s);
  }
  return {
    epochs: state.epoch,
    steps: state.step,
    seconds: state.history.reduce((a, m) => a + m.seconds, 0) + state.seconds,
    interrupted,
    last: state.history[state.history.length - 1] ?? null,
    outDir: s.folder.dir,
  };
}

function disposeSession(s: Session): void {
  tf.dispose([
    s.referenceZ,
    s.gridZ,
    s.evalZ,
    ...Object.values(s.nets.gParams),
    ...Object.values(s.nets.dParams),
  ]);
  s.nets.gOptimizer.dispose();
  s.nets.dOptimizer.dispose();
}

/** Sample metrics against `count` real validation images, with the classifier as it is on disk now. */
function evaluateSamples(images: Float32Array, count: number, real: Float32Array): SampleMetrics {
  const classifier = readClassifier();
  try {
    return sampleMetrics(classifier, images, count, featureGaussian(classifier, real, count));
  } finally {
    tf.dispose(Object.values(classifier));
  }
}
