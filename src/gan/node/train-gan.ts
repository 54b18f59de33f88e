import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countOf, gather } from '../../data/dataset.js';
import type { DataOptions, LoadedData } from '../../data/node/load.js';
import { VbnError } from '../../errors.js';
import {
  pointLink,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
} from '../../train/node/checkpoint.js';
import { optimizerState, restoreOptimizerState } from '../../train/node/optimizer-state.js';
import { TrainingDivergedError, epochOrder } from '../../train/node/train.js';
import {
  checkLabelCodes,
  learningRateAt,
  resolveGanTrainConfig,
  resumeGanConfig,
  type GanTrainConfig,
} from '../config.js';
import {
  featureGaussian,
  generateImages,
  latents,
  sampleMetrics,
  type SampleMetrics,
} from '../evaluate.js';
import {
  NonFiniteGanLossError,
  ganOptimizer,
  type GanAdam,
  ganStep,
  type GanNetworks,
  type GanStepResult,
} from '../step.js';
import { readClassifier } from './classifier-files.js';
import { writeGrid } from './grid.js';
import { PREFIX, joinParams, networksOf, part } from '../networks.js';
import {
  freshState,
  savedGanConfig,
  type GanCheckpointMeta,
  type GanEpochMetrics,
  type GanRunState,
} from './run-state.js';

/** Latent streams (tfSeed's second argument): step k draws stream STEP_STREAM + k. */
export const STREAMS = { reference: 1, grid: 2, eval: 3, step: 100_000 } as const;

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

interface Run {
  config: GanTrainConfig;
  nets: GanNetworks;
  /** nets' optimizers, whose learning rates the schedule sets before each step. */
  adams: { g: GanAdam; d: GanAdam };
  referenceZ: tf.Tensor2D;
  state: GanRunState;
}

/** Fresh networks, or those of a checkpoint, with their optimizers. */
async function setUp(
  data: LoadedData,
  options: GanTrainOptions,
): Promise<Run & { meta: GanCheckpointMeta | null }> {
  const restored = options.resumeFrom
    ? readCheckpoint<GanCheckpointMeta>(options.resumeFrom)
    : null;
  const meta = restored?.meta ?? null;
  if (meta && meta.kind !== 'gan') {
    throw new VbnError(
      `--resume ${options.resumeFrom}: not a GAN checkpoint (written by vbn train)`,
    );
  }
  const config = meta
    ? resumedGanConfig(meta, options.config ?? {}, options.resumeFrom!)
    : resolveGanTrainConfig(options.config ?? {});
  checkLabelCodes(config, data.train.classNames);
  const { generator, discriminator } = networksOf(config, data.train.shape);
  const adams = {
    g: ganOptimizer(config.lr, config.beta1),
    d: ganOptimizer(config.dLr, config.beta1),
  };
  const nets: GanNetworks = {
    generator,
    discriminator,
    gParams: generator.init(config.seed),
    dParams: discriminator.init(config.seed + 1),
    gOptimizer: adams.g,
    dOptimizer: adams.d,
  };
  let referenceZ = latents(
    config.seed,
    STREAMS.reference,
    config.referenceSize,
    config.latentDim,
    config.codes,
  );
  if (restored) {
    const all = joinParams(nets.gParams, nets.dParams);
    for (const [name, v] of Object.entries(all)) {
      const t = restored.params[name];
      if (!t) throw new VbnError(`${options.resumeFrom}: checkpoint lacks parameter '${name}'`);
      v.assign(t);
    }
    tf.dispose([referenceZ, ...Object.values(restored.params)]);
    referenceZ = restored.reference as tf.Tensor2D;
    await restoreOptimizerState(nets.gOptimizer, part(restored.optimizer, PREFIX.generator));
    await restoreOptimizerState(nets.dOptimizer, part(restored.optimizer, PREFIX.discriminator));
    tf.dispose(restored.optimizer.map((w) => w.tensor));
  }
  const state = meta ? structuredClone(meta.state) : freshState();
  return { config, nets, adams, referenceZ, state, meta };
}

/** The saved configuration with the given epochs (the total) and checkpointEvery; other changes refused. */
function resumedGanConfig(
  meta: GanCheckpointMeta,
  given: Partial<GanTrainConfig>,
  runDir: string,
): GanTrainConfig {
  const config = resumeGanConfig(savedGanConfig(meta), given, runDir);
  if (config.epochs < meta.state.epoch) {
    throw new VbnError(
      `--epochs ${config.epochs}: the run in ${runDir} has already completed ${meta.state.epoch} epochs (--epochs is the total)`,
    );
  }
  return config;
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

/** Trains a GAN on `data.train`; metrics against `data.val`. Deterministic for a seed and a backend. */
/** Everything a running GAN run needs beyond its Run. */
interface Session extends Run {
  data: LoadedData;
  outDir: string | null;
  stepsPerEpoch: number;
  /** Fixed latents: the sample grid's 100, and the per-epoch metrics' evalCount. */
  gridZ: tf.Tensor2D;
  evalZ: tf.Tensor2D;
  evalCount: number;
  meta(): GanCheckpointMeta;
}

/** Writes checkpoint `ckpt-<step>` (both networks, both optimizers, the reference z) and points `last` at it. */
async function save(s: Session): Promise<void> {
  if (!s.outDir) return;
  const name = `ckpt-${String(s.state.step).padStart(8, '0')}`;
  const prefixed = async (o: tf.Optimizer, prefix: string) =>
    (await optimizerState(o)).map((w) => ({ ...w, name: prefix + w.name }));
  await writeCheckpoint(s.outDir, name, {
    meta: s.meta(),
    params: joinParams(s.nets.gParams, s.nets.dParams),
    reference: s.referenceZ,
    optimizer: [
      ...(await prefixed(s.nets.gOptimizer, PREFIX.generator)),
      ...(await prefixed(s.nets.dOptimizer, PREFIX.discriminator)),
    ],
  });
  pointLink(s.outDir, 'last', name);
  pruneCheckpoints(s.outDir, ['last']);
}

const referenceOf = (s: Session) => (s.config.norm === 'vbn' ? s.referenceZ : null);

/** One GAN step on the epoch's next real batch; updates the run state. */
function step(s: Session, order: number[]): GanStepResult {
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
    if (e instanceof NonFiniteGanLossError) throw diverged(e, state, s.outDir);
    throw e;
  } finally {
    tf.dispose([images, labels, z]);
  }
  state.step++;
  state.stepInEpoch++;
  state.dLosses.push(r.dLoss);
  state.gLosses.push(r.gLoss);
  state.seconds += (performance.now() - t0) / 1000;
  return r;
}

/** The epoch's metrics, metrics.jsonl, the sample grids and a checkpoint. */
async function endEpoch(s: Session): Promise<GanEpochMetrics> {
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
  if (s.outDir) {
    appendFileSync(join(s.outDir, 'metrics.jsonl'), JSON.stringify(m) + '\n');
    const grid = generateImages(nets.generator, nets.gParams, referenceOf(s), s.gridZ);
    const [h, w] = s.data.train.shape;
    writeGrid(join(s.outDir, `samples-epoch-${m.epoch}.png`), grid, 100, h, w);
    writeGrid(join(s.outDir, 'samples.png'), grid, 100, h, w);
  }
  await save(s);
  return m;
}

/** Trains a GAN on `data.train`; metrics against `data.val`. Deterministic for a seed and a backend. */
export async function trainGan(
  data: LoadedData,
  options: GanTrainOptions = {},
): Promise<GanSummary> {
  const hooks = options.hooks ?? {};
  const log = hooks.log ?? (() => {});
  const run = await setUp(data, options);
  const { config, state } = run;
  const outDir = options.outDir ?? null;
  const backend = options.backend ?? tf.getBackend();
  const evalCount = Math.min(config.evalSamples, countOf(data.val));
  const s: Session = {
    ...run,
    data,
    outDir,
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
  const stopped = () =>
    log(outDir ? `interrupted: checkpoint written to ${join(outDir, 'last')}` : 'interrupted');
  let interrupted = false;
  try {
    tf.dispose(Object.values(readClassifier())); // fails early, before anything is written
    if (outDir) prepareOutDir(outDir, run.meta === null, s.meta(), state);
    hooks.onStart?.({ stepsPerEpoch: s.stepsPerEpoch, epochs: config.epochs, state });
    while (state.epoch < config.epochs && !interrupted) {
      const order = epochOrder(countOf(data.train), config.seed, state.epoch);
      while (state.stepInEpoch < s.stepsPerEpoch) {
        const r = step(s, order);
        hooks.onStep?.({
          epoch: state.epoch + 1,
          stepInEpoch: state.stepInEpoch,
          stepsPerEpoch: s.stepsPerEpoch,
          ...r,
        });
        await new Promise<void>((resolve) => setImmediate(resolve)); // signals and timers run here
        if (hooks.shouldStop?.()) {
          interrupted = true;
          break;
        }
        const due = config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0;
        if (due && state.stepInEpoch < s.stepsPerEpoch) await save(s);
      }
      if (interrupted && state.stepInEpoch < s.stepsPerEpoch) {
        await save(s);
        stopped();
        break;
      }
      const m = await endEpoch(s);
      await hooks.onEpoch?.(m, state);
      interrupted = (interrupted || Boolean(hooks.shouldStop?.())) && state.epoch < config.epochs;
      if (interrupted) stopped();
    }
  } finally {
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
  return {
    epochs: state.epoch,
    steps: state.step,
    seconds: state.history.reduce((a, m) => a + m.seconds, 0) + state.seconds,
    interrupted,
    last: state.history[state.history.length - 1] ?? null,
    outDir,
  };
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

function diverged(e: NonFiniteGanLossError, state: GanRunState, outDir: string | null): VbnError {
  const last =
    outDir && existsSync(join(outDir, 'last'))
      ? `${join(outDir, 'last')} (written before step ${state.step + 1})`
      : 'none written';
  return new TrainingDivergedError(
    `GAN training diverged: the ${e.which} loss became ${e.loss} at step ${state.step + 1} (epoch ${state.epoch + 1}); no update was applied and no checkpoint was overwritten; last good checkpoint: ${last}. Try a lower --lr.`,
  );
}

/** A new run refuses a folder that holds one; metrics.jsonl mirrors the state we continue from. */
function prepareOutDir(
  outDir: string,
  fresh: boolean,
  meta: GanCheckpointMeta,
  state: GanRunState,
): void {
  mkdirSync(outDir, { recursive: true });
  if (fresh) {
    const existing = readdirSync(outDir).filter((f) => !f.startsWith('.'));
    if (existing.some((f) => ['last', 'metrics.jsonl', 'config.json'].includes(f))) {
      throw new VbnError(
        `--out ${outDir}: already holds a run (use --resume ${outDir} to continue it, or another --out)`,
      );
    }
    writeFileSync(join(outDir, 'config.json'), JSON.stringify(meta, null, 2));
  }
  writeFileSync(
    join(outDir, 'metrics.jsonl'),
    state.history.map((m) => JSON.stringify(m) + '\n').join(''),
  );
}
