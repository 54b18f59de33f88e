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
  options: { strategy: Strategy; loss: LossName },
): StepResult {
  let correct = 0;
  const loss = tf.tidy(() => {
    const oneHot = tf.oneHot(labels, net.config.numClasses) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.apply(params, reference, x, { strategy: options.strategy });
      correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0];
      return computeLoss(options.loss, oneHot, logits);
    }, Object.values(params));
    const l = value.dataSync()[0];
    if (!Number.isFinite(l)) throw new NonFiniteLossError(l);
    optimizer.applyGradients(grads);
    return l;
  });
  return { loss, correct };
}
