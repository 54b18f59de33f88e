import * as tf from '@tensorflow/tfjs-core';

/**
 * Optimizer state for checkpoints, exact to the bit. tf.Optimizer.getWeights() omits Adam's
 * running powers beta1^t and beta2^t; setWeights() recomputes them as pow(beta, t+1), which
 * differs in the last bits from the running product an uninterrupted run carries, so a resumed run
 * would drift by ~1e-7. We save and restore those accumulators too.
 */
/** A tensor with its name, as tf.Optimizer.getWeights() returns them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const HIDDEN = ['accBeta1', 'accBeta2'] as const;
const PREFIX = 'vbn-hidden/';

type WithHidden = tf.Optimizer & Partial<Record<(typeof HIDDEN)[number], tf.Variable>>;

export async function optimizerState(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const weights = await optimizer.getWeights();
  const o = optimizer as WithHidden;
  for (const k of HIDDEN) {
    const v = o[k];
    if (v instanceof tf.Variable) weights.push({ name: `${PREFIX}${k}`, tensor: v });
  }
  return weights;
}

export async function restoreOptimizerState(
  optimizer: tf.Optimizer,
  state: NamedTensor[],
): Promise<void> {
  const visible = state.filter((w) => !w.name.startsWith(PREFIX));
  if (visible.length > 0) await optimizer.setWeights(visible);
  const o = optimizer as WithHidden;
  for (const w of state.filter((s) => s.name.startsWith(PREFIX))) {
    const v = o[w.name.slice(PREFIX.length) as (typeof HIDDEN)[number]];
    if (v instanceof tf.Variable) v.assign(w.tensor);
  }
}

/** The states of several optimizers in one list, each name under its optimizer's prefix. */
export async function optimizersState(
  byPrefix: Readonly<Record<string, tf.Optimizer>>,
): Promise<NamedTensor[]> {
  const all: NamedTensor[] = [];
  for (const [prefix, o] of Object.entries(byPrefix)) {
    for (const w of await optimizerState(o)) all.push({ ...w, name: prefix + w.name });
  }
  return all;
}

/** Restores each optimizer of `byPrefix` from the entries of `state` under its prefix. */
export async function restoreOptimizersState(
  byPrefix: Readonly<Record<string, tf.Optimizer>>,
  state: NamedTensor[],
): Promise<void> {
  for (const [prefix, o] of Object.entries(byPrefix)) {
    const own = state
      .filter((w) => w.name.startsWith(prefix))
      .map((w) => ({ ...w, name: w.name.slice(prefix.length) }));
    await restoreOptimizerState(o, own);
  }
}
