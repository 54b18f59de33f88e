import * as tf from '@tensorflow/tfjs-core';
import type { VbnNet } from '../../model/net.js';
import { VbnError } from '../../errors.js';
import { readCheckpoint, resolveCheckpointDir } from '../../run/node/checkpoint.js';
import { networkFor } from '../network.js';
import type { CheckpointMeta } from './state.js';

export interface LoadedModel {
  dir: string;
  meta: CheckpointMeta;
  net: VbnNet;
  params: Record<string, tf.Tensor>;
  reference: tf.Tensor;
}

/** Loads a checkpoint (or a run folder's last/best) into a network ready for apply(). */
export function loadModel(dir: string, which: 'last' | 'best' = 'last'): LoadedModel {
  const resolved = resolveCheckpointDir(dir, which);
  const c = readCheckpoint<CheckpointMeta>(resolved);
  const m = c.meta;
  const net = networkFor(m.config, m.inputShape, m.classNames.length);
  for (const name of net.parameterNames) {
    if (!c.params[name]) throw new VbnError(`${resolved}: checkpoint lacks parameter '${name}'`);
  }
  tf.dispose(c.optimizer.map((w) => w.tensor));
  return { dir: resolved, meta: m, net, params: c.params, reference: c.reference };
}
