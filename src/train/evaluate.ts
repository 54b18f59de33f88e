import * as tf from '@tensorflow/tfjs-core';
import { countOf, gather, type Dataset } from '../data/dataset.js';
import type { Strategy } from '../model/config.js';
import type { ParamTensors, VbnNet } from '../model/net.js';
import type { ReferenceStatistics } from '../vbn/statistics.js';
import { disposeStatistics } from '../vbn/statistics.js';
import { computeLoss, type LossName } from './losses.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

export interface EvaluateOptions {
  strategy: Strategy;
  loss: LossName;
  /** Examples per batch. Default 256. */
  batchSize?: number;
}

/** What evaluation needs besides the data: the network, its weights, reference and statistics. */
interface Model {
  net: VbnNet;
  params: ParamTensors;
  reference: tf.Tensor;
  /** Two-pass statistics computed once for these weights (undefined for 'concat'). */
  stats?: ReferenceStatistics[];
}

/** The batches of a data set: index ranges [start, start + size). */
function batches(n: number, size: number): { start: number; idx: number[] }[] {
  const out = [];
  for (let i = 0; i < n; i += size) {
    out.push({ start: i, idx: Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k) });
  }
  return out;
}

/** Mean loss and correct count of one batch, as scalars. */
function batchTensors(
  m: Model,
  data: Dataset,
  b: { start: number; idx: number[] },
  options: EvaluateOptions,
): [tf.Scalar, tf.Scalar] {
  return tf.tidy(() => {
    const x = tf.tensor4d(gather(data, b.idx), [b.idx.length, ...data.shape]);
    const labels = tf.tensor1d(data.labels.subarray(b.start, b.start + b.idx.length), 'int32');
    const logits = m.net.apply(m.params, m.reference, x, {
      strategy: options.strategy,
      statistics: m.stats,
    });
    const oneHot = tf.oneHot(labels, m.net.config.numClasses) as tf.Tensor2D;
    const loss = computeLoss(options.loss, oneHot, logits) as tf.Scalar;
    const ok = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')) as tf.Scalar;
    return [loss, ok];
  });
}

/**
 * The batches' loss and correct-count scalars with each batch's size, the model's statistics set up
 * before the first and freed after the last; each batch's scalars are freed when the next is asked
 * for, so a caller reads them synchronously or awaits them.
 */
function* batchResults(
  net: VbnNet,
  params: ParamTensors,
  reference: tf.Tensor,
  data: Dataset,
  options: EvaluateOptions,
): Generator<[tf.Scalar, tf.Scalar, number], void, void> {
  const stats =
    options.strategy === 'two-pass' ? net.referenceStatistics(params, reference) : undefined;
  const m: Model = { net, params, reference, stats };
  try {
    for (const b of batches(countOf(data), options.batchSize ?? 256)) {
      const t = batchTensors(m, data, b, options);
      try {
        yield [t[0], t[1], b.idx.length];
      } finally {
        tf.dispose(t);
      }
    }
  } finally {
    stats?.forEach(disposeStatistics);
  }
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
  options: EvaluateOptions,
): Evaluation {
  let lossSum = 0;
  let correct = 0;
  for (const [l, c, size] of batchResults(net, params, reference, data, options)) {
    lossSum += l.dataSync()[0] * size;
    correct += c.dataSync()[0];
  }
  const n = countOf(data);
  return { loss: lossSum / n, accuracy: correct / n, count: n };
}

/** `evaluate` with asynchronous reads (webgpu in the browser): the same ops in the same order. */
export async function evaluateAsync(
  net: VbnNet,
  params: ParamTensors,
  reference: tf.Tensor,
  data: Dataset,
  options: EvaluateOptions,
): Promise<Evaluation> {
  let lossSum = 0;
  let correct = 0;
  for (const [l, c, size] of batchResults(net, params, reference, data, options)) {
    const [lv, cv] = await Promise.all([l.data(), c.data()]);
    lossSum += lv[0] * size;
    correct += cv[0];
  }
  const n = countOf(data);
  return { loss: lossSum / n, accuracy: correct / n, count: n };
}
