import * as tf from '@tensorflow/tfjs-core';
import { countOf, gather, type Dataset } from '../data/dataset.js';
import type { Strategy } from '../model/config.js';
import type { ParamTensors, VbnNet } from '../model/net.js';
import { disposeStatistics } from '../vbn/statistics.js';
import { computeLoss, type LossName } from './losses.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/**
 * Mean loss and accuracy over a data set. With 'two-pass' the reference statistics are computed
 * once for these weights and reused for every batch; with 'concat' each batch is a one-pass run.
 */
export function evaluate(
  net: VbnNet,
  params: ParamTensors,
  reference: tf.Tensor,
  data: Dataset,
  options: { strategy: Strategy; loss: LossName; batchSize?: number },
): Evaluation {
  const n = countOf(data);
  const batch = options.batchSize ?? 256;
  const stats =
    options.strategy === 'two-pass' ? net.referenceStatistics(params, reference) : undefined;
  let lossSum = 0;
  let correct = 0;
  try {
    for (let i = 0; i < n; i += batch) {
      const idx = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
      const [l, c] = tf.tidy(() => {
        const x = tf.tensor4d(gather(data, idx), [idx.length, ...data.shape]);
        const labels = tf.tensor1d(data.labels.subarray(i, i + idx.length), 'int32');
        const logits = net.apply(params, reference, x, {
          strategy: options.strategy,
          statistics: stats,
        });
        const oneHot = tf.oneHot(labels, net.config.numClasses) as tf.Tensor2D;
        const loss = computeLoss(options.loss, oneHot, logits).dataSync()[0];
        const ok = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0];
        return [loss, ok];
      });
      lossSum += l * idx.length;
      correct += c;
    }
  } finally {
    stats?.forEach(disposeStatistics);
  }
  return { loss: lossSum / n, accuracy: correct / n, count: n };
}
