import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../../model/net.js';
import { readCheckpoint, resolveCheckpointDir } from '../../run/node/checkpoint.js';
import { VbnError } from '../../errors.js';
import type { Generator } from '../generator.js';
import { PREFIX, networksOf } from '../networks.js';
import { savedGanConfig, type GanCheckpointMeta } from './run-state.js';

export interface LoadedGan {
  dir: string;
  meta: GanCheckpointMeta;
  generator: Generator;
  gParams: Params;
  /** The run's reference latents `[N, latentDim]`, or null when the norm is not 'vbn'. */
  referenceZ: tf.Tensor2D | null;
}

/** The generator of a GAN checkpoint (`--checkpoint`: a checkpoint or run folder). */
export function loadGan(checkpoint: string): LoadedGan {
  const dir = resolveCheckpointDir(checkpoint, 'last');
  const restored = readCheckpoint<GanCheckpointMeta>(dir);
  tf.dispose(restored.optimizer.map((w) => w.tensor));
  const meta = restored.meta;
  if (meta.kind !== 'gan') {
    tf.dispose([restored.reference, ...Object.values(restored.params)]);
    throw new VbnError(`--checkpoint ${checkpoint}: not a GAN checkpoint (written by vbn train)`);
  }
  const { generator } = networksOf(savedGanConfig(meta), meta.imageShape);
  const gParams: Params = {};
  for (const name of generator.parameterNames) {
    const t = restored.params[PREFIX.generator + name];
    if (!t) throw new VbnError(`${dir}: checkpoint lacks parameter '${PREFIX.generator}${name}'`);
    gParams[name] = tf.variable(t, false);
  }
  tf.dispose(Object.values(restored.params));
  const vbn = meta.config.norm === 'vbn';
  if (!vbn) restored.reference.dispose();
  return {
    dir,
    meta,
    generator,
    gParams,
    referenceZ: vbn ? (restored.reference as tf.Tensor2D) : null,
  };
}

export function disposeGan(g: LoadedGan): void {
  tf.dispose([...Object.values(g.gParams), ...(g.referenceZ ? [g.referenceZ] : [])]);
}
