import * as tf from '@tensorflow/tfjs-core';
import type { LoadedData } from '../../data/node/load.js';
import { VbnError } from '../../errors.js';
import { readCheckpoint } from '../../run/node/checkpoint.js';
import { restoreOptimizersState } from '../../run/optimizer-state.js';
import { checkEpochsLeft } from '../../run/resume.js';
import {
  checkLabelCodes,
  resolveGanTrainConfig,
  resumeGanConfig,
  type GanTrainConfig,
} from '../config.js';
import { latents } from '../evaluate.js';
import { PREFIX, joinParams, networksOf } from '../networks.js';
import { ganOptimizer, type GanAdam, type GanNetworks } from '../step.js';
import {
  freshState,
  savedGanConfig,
  type GanCheckpointMeta,
  type GanRunState,
} from './run-state.js';

/** Latent streams (tfSeed's second argument): step k draws stream STEP_STREAM + k. */
export const STREAMS = { reference: 1, grid: 2, eval: 3, step: 100_000 } as const;

/** A GAN run's networks, optimizers, reference latents and state, new or restored. */
export interface GanRun {
  config: GanTrainConfig;
  nets: GanNetworks;
  /** nets' optimizers, whose learning rates the schedule sets before each step. */
  adams: { g: GanAdam; d: GanAdam };
  referenceZ: tf.Tensor2D;
  state: GanRunState;
}

/**
 * Fresh networks, or those of the checkpoint `given.resumeFrom` (weights, optimizers, reference
 * latents, state), with their optimizers; `meta` is the checkpoint's, null for a new run.
 */
export async function openGanRun(
  data: LoadedData,
  given: { config?: Partial<GanTrainConfig>; resumeFrom?: string },
): Promise<GanRun & { meta: GanCheckpointMeta | null }> {
  const restored = given.resumeFrom ? readCheckpoint<GanCheckpointMeta>(given.resumeFrom) : null;
  const meta = restored?.meta ?? null;
  if (meta && meta.kind !== 'gan') {
    throw new VbnError(`--resume ${given.resumeFrom}: not a GAN checkpoint (written by vbn train)`);
  }
  const config = meta
    ? resumedGanConfig(meta, given.config ?? {}, given.resumeFrom!)
    : resolveGanTrainConfig(given.config ?? {});
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
      if (!t) throw new VbnError(`${given.resumeFrom}: checkpoint lacks parameter '${name}'`);
      v.assign(t);
    }
    tf.dispose([referenceZ, ...Object.values(restored.params)]);
    referenceZ = restored.reference as tf.Tensor2D;
    await restoreOptimizersState(optimizersOf(nets), restored.optimizer);
    tf.dispose(restored.optimizer.map((w) => w.tensor));
  }
  const state = meta ? structuredClone(meta.state) : freshState();
  return { config, nets, adams, referenceZ, state, meta };
}

/** Both optimizers under their checkpoint prefixes, the generator's first. */
export const optimizersOf = (nets: GanNetworks): Record<string, tf.Optimizer> => ({
  [PREFIX.generator]: nets.gOptimizer,
  [PREFIX.discriminator]: nets.dOptimizer,
});

/** The saved configuration with the given epochs (the total) and checkpointEvery; other changes refused. */
function resumedGanConfig(
  meta: GanCheckpointMeta,
  given: Partial<GanTrainConfig>,
  runDir: string,
): GanTrainConfig {
  const config = resumeGanConfig(savedGanConfig(meta), given, runDir);
  checkEpochsLeft(config.epochs, meta.state.epoch, runDir);
  return config;
}
