import * as tf from '@tensorflow/tfjs-core';
import type { Strategy } from '../model/config.js';
import type { Params, VbnNet } from '../model/net.js';
import { computeLoss, type LossName } from './losses.js';

export interface StepResult {
  /** Mean loss over the batch, before the update. */
  loss: number;
  /** Correctly classified examples in the batch, before the update. */
  correct: number;
}

/** Raised when the loss is NaN or infinite; the update was not applied. */
export class NonFiniteLossError extends Error {
  constructor(readonly loss: number) {
    super(`loss is ${loss}`);
    this.name = 'NonFiniteLossError';
  }
}

export interface StepOptions {
  strategy: Strategy;
  loss: LossName;
}

/** A step's loss and correct count (scalars) and every parameter's gradient, not yet applied. */
interface StepTensors {
  loss: tf.Scalar;
  correct: tf.Scalar;
  grads: tf.NamedTensorMap;
}

/**
 * Loss and gradients of one batch: inputs `x` `[B, ...inputShape]`, labels `[B]`, against
 * `reference` `[N, ...inputShape]`. The caller reads the values (synchronously or not), then
 * calls `applyStep`.
 */
function stepTensors(
  net: VbnNet,
  params: Params,
  reference: tf.Tensor,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  options: StepOptions,
): StepTensors {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, net.config.numClasses) as tf.Tensor2D;
    let correct: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.apply(params, reference, x, { strategy: options.strategy });
      correct = tf.keep(
        tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')),
      ) as tf.Scalar;
      return computeLoss(options.loss, oneHot, logits);
    }, Object.values(params));
    return { loss: value, correct: correct!, grads };
  });
}

/** Applies the update when the loss is finite (never otherwise) and frees the step's tensors. */
function applyStep(
  optimizer: tf.Optimizer,
  t: StepTensors,
  loss: number,
  correct: number,
): StepResult {
  try {
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(loss);
    optimizer.applyGradients(t.grads);
    return { loss, correct };
  } finally {
    tf.dispose([t.loss, t.correct, ...Object.values(t.grads)]);
  }
}

/**
 * One optimizer step on inputs `x` `[B, ...inputShape]` with labels `labels` `[B]`, against
 * `reference` `[N, ...inputShape]`. Computes the loss and every parameter gradient, checks that
 * the loss is finite, then applies the update (never when it is not).
 */
export function trainStep(
  net: VbnNet,
  params: Params,
  optimizer: tf.Optimizer,
  reference: tf.Tensor,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  options: StepOptions,
): StepResult {
  const t = stepTensors(net, params, reference, x, labels, options);
  return applyStep(optimizer, t, t.loss.dataSync()[0], t.correct.dataSync()[0]);
}

/**
 * `trainStep` with asynchronous reads (`await data()`), for backends where synchronous reads are
 * unavailable or wrong (webgpu in the browser): the same ops in the same order.
 */
export async function trainStepAsync(
  net: VbnNet,
  params: Params,
  optimizer: tf.Optimizer,
  reference: tf.Tensor,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  options: StepOptions,
): Promise<StepResult> {
  const t = stepTensors(net, params, reference, x, labels, options);
  let values: [tf.TypedArray, tf.TypedArray];
  try {
    values = await Promise.all([t.loss.data(), t.correct.data()]);
  } catch (e) {
    tf.dispose([t.loss, t.correct, ...Object.values(t.grads)]);
    throw e;
  }
  return applyStep(optimizer, t, values[0][0], values[1][0]);
}
