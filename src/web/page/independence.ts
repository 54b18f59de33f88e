import * as tf from '@tensorflow/tfjs-core';
import { createVbnNet, type ParamTensors, type VbnNet } from '../../model/net.js';
import type { Strategy } from '../../model/config.js';
import { Random } from '../../util/random.js';

/** One digit's logits in one minibatch, and how far they are from its logits alone. */
export interface IndependenceRow {
  /** Companions in the minibatch besides the digit. */
  companions: number;
  logits: number[];
  /** max |logits - logits alone|. */
  maxDiff: number;
}

/**
 * Classifies `digit` [1, H, W, C] alone and as row 0 of minibatches with random companions drawn
 * from `pool` [M, H, W, C]. With VBN (`batchNorm` false) every row's logits are those of the
 * digit alone. With `batchNorm` the network normalizes with the minibatch's own statistics
 * (ordinary batch norm in training mode: the same weights, the minibatch as its reference), so
 * the logits change with the companions.
 */
export async function batchIndependence(
  net: VbnNet,
  params: ParamTensors,
  reference: tf.Tensor,
  digit: tf.Tensor,
  pool: tf.Tensor,
  options: { strategy: Strategy; batchNorm: boolean; sizes: number[]; seed: number },
): Promise<IndependenceRow[]> {
  const bn = options.batchNorm ? createVbnNet({ ...net.config, mode: 'reference' }) : null;
  const rng = new Random(options.seed);
  const logitsOf = async (companions: number): Promise<number[]> => {
    const row = tf.tidy(() => {
      const picks = Array.from({ length: companions }, () => rng.int(pool.shape[0]));
      const batch = tf.concat([digit, tf.gather(pool, picks)]);
      const logits = bn
        ? bn.apply(params, batch, batch, { strategy: 'concat' })
        : net.apply(params, reference, batch, { strategy: options.strategy });
      return tf.slice(logits, [0, 0], [1, -1]);
    });
    const values = Array.from(await row.data());
    row.dispose();
    return values;
  };
  const alone = await logitsOf(0);
  const rows: IndependenceRow[] = [];
  for (const companions of [0, ...options.sizes]) {
    const logits = companions === 0 ? alone : await logitsOf(companions);
    const maxDiff = Math.max(...logits.map((v, i) => Math.abs(v - alone[i])));
    rows.push({ companions, logits, maxDiff });
  }
  return rows;
}
