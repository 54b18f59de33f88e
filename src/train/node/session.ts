import * as tf from '@tensorflow/tfjs-core';
import { drawReference, gather, type Dataset } from '../../data/dataset.js';
import type { DataOptions, LoadedData } from '../../data/node/load.js';
import { VbnError, shapeString } from '../../errors.js';
import type { Params, VbnNet } from '../../model/net.js';
import { readCheckpoint, type CheckpointContents } from '../../run/node/checkpoint.js';
import { resolveTrainConfig, resumeConfig, type TrainConfig } from '../config.js';
import { networkFor } from '../network.js';
import { createOptimizer } from '../optimizers.js';
import { restoreOptimizerState } from '../../run/optimizer-state.js';
import { checkEpochsLeft } from '../../run/resume.js';
import { freshState, type CheckpointMeta, type RunState } from './state.js';

/** A given reference batch `[N, H, W, C]` (or `[N, H, W]`) and where it came from. */
export interface GivenReference {
  values: Float32Array;
  shape: number[];
  source: string;
}

/** Everything a run holds in memory: explicit state, created new or restored from a checkpoint. */
export interface Session {
  config: TrainConfig;
  data: DataOptions;
  net: VbnNet;
  params: Params;
  /** `[N, H, W, C]`, never a parameter. */
  reference: tf.Tensor4D;
  optimizer: tf.Optimizer;
  state: RunState;
}

function makeReference(train: Dataset, config: TrainConfig, given?: GivenReference): tf.Tensor4D {
  if (given) {
    const want = [config.referenceSize, ...train.shape] as [number, number, number, number];
    const shape = given.shape.length === 3 ? [...given.shape, 1] : given.shape;
    if (shape.join(',') !== want.join(',')) {
      throw new VbnError(
        `${given.source}: the reference must have shape ${shapeString(want)} (--reference-size ${config.referenceSize} images like the training data) but has shape ${shapeString(given.shape)}`,
      );
    }
    return tf.tensor4d(given.values, want);
  }
  const idx = drawReference(train, config.referenceSize, config.seed);
  return tf.tensor4d(gather(train, idx), [idx.length, ...train.shape]);
}

/** A new run: configuration with defaults, fresh weights and optimizer, the reference drawn. */
export function newSession(
  data: LoadedData,
  given: { config?: Partial<TrainConfig>; data?: DataOptions; reference?: GivenReference },
): Session {
  const config = resolveTrainConfig(given.config ?? {});
  const { train } = data;
  const net = networkFor(config, train.shape, train.classNames.length);
  return {
    config,
    data: given.data ?? {},
    net,
    params: net.init(config.seed),
    reference: makeReference(train, config, given.reference),
    optimizer: createOptimizer(config.optimizer, config.lr),
    state: freshState(),
  };
}

/**
 * A run restored from checkpoint folder `dir`: weights, optimizer state, reference, counters.
 * `given` may extend --epochs or change --checkpoint-every; anything else that differs is refused.
 */
export async function resumeSession(
  data: LoadedData,
  dir: string,
  given: Partial<TrainConfig> = {},
): Promise<Session> {
  const restored: CheckpointContents<CheckpointMeta> = readCheckpoint<CheckpointMeta>(dir);
  const meta = restored.meta;
  const { train } = data;
  if (meta.inputShape.join(',') !== train.shape.join(',')) {
    tf.dispose([restored.reference, ...Object.values(restored.params)]);
    throw new VbnError(
      `--resume: the checkpoint was trained on images ${meta.inputShape.join('x')} but the data has ${train.shape.join('x')}`,
    );
  }
  try {
    return await restore(restored, dir, given);
  } finally {
    tf.dispose([...Object.values(restored.params), ...restored.optimizer.map((w) => w.tensor)]);
  }
}

async function restore(
  restored: CheckpointContents<CheckpointMeta>,
  dir: string,
  given: Partial<TrainConfig>,
): Promise<Session> {
  const { meta } = restored;
  const config = resumeConfig(meta.config, given, dir);
  const state = structuredClone(meta.state);
  try {
    checkEpochsLeft(config.epochs, state.epoch, dir);
  } catch (e) {
    tf.dispose(restored.reference);
    throw e;
  }
  const net = networkFor(config, meta.inputShape, meta.classNames.length);
  const missing = net.parameterNames.find((name) => !restored.params[name]);
  if (missing) {
    tf.dispose(restored.reference);
    throw new VbnError(`${dir}: checkpoint lacks parameter '${missing}'`);
  }
  const params = net.init(config.seed);
  for (const name of net.parameterNames) params[name].assign(restored.params[name]);
  const optimizer = createOptimizer(config.optimizer, config.lr);
  await restoreOptimizerState(optimizer, restored.optimizer);
  const reference = restored.reference as tf.Tensor4D;
  return { config, data: meta.data, net, params, reference, optimizer, state };
}

export function disposeSession(s: Session): void {
  tf.dispose([s.reference, ...Object.values(s.params)]);
  s.optimizer.dispose();
}
