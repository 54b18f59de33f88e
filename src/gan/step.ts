import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/net.js';
import { GAN_DEFAULTS } from './config.js';
import type { Discriminator, DiscriminatorHeads } from './discriminator.js';
import type { Generator } from './generator.js';
import { VbnError } from '../errors.js';
import { checkNonNegative } from '../vbn/validate.js';
import { fusedAdamUpdate, hasFusedAdam, type Gradients } from '../backend/fused-adam.js';
import { discriminatorLoss, generatorLoss, infoLoss, labelLoss } from './losses.js';

export interface GanNetworks {
  generator: Generator;
  discriminator: Discriminator;
  gParams: Params;
  dParams: Params;
  /** Updates the discriminator's parameters. */
  dOptimizer: tf.Optimizer;
  /** Updates the generator's parameters. */
  gOptimizer: tf.Optimizer;
}

/** ganStep's options. */
export interface GanStepOptions {
  /** Weight of the code's cross-entropy in both losses (InfoGAN's lambda). Default 1. */
  infoWeight?: number;
  /**
   * Class labels `[B]` (int32 in [0, codes)) of the real images. Given, the discriminator's loss
   * adds labelWeight x labelLoss of the code head on them (AC-GAN): code k comes to draw class k.
   */
  realLabels?: tf.Tensor1D;
  /** Weight of the real images' class loss; used with realLabels. Default 1. */
  labelWeight?: number;
}

export interface GanStepResult {
  /** Discriminator loss before its update (with codes: plus infoWeight x the code loss; with labels, plus labelWeight x their loss). */
  dLoss: number;
  /** Generator loss after the discriminator's update, before the generator's (likewise). */
  gLoss: number;
}

/** Raised when a loss is NaN or infinite; the update it would have driven was not applied. */
export class NonFiniteGanLossError extends Error {
  constructor(
    readonly which: 'discriminator' | 'generator',
    readonly loss: number,
  ) {
    super(`${which} loss is ${loss}`);
    this.name = 'NonFiniteGanLossError';
  }
}

/** Adam whose learning rate a schedule may change between steps. */
export class GanAdam extends tf.AdamOptimizer {
  /** The rate of the next update on. */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
  /** The rate the last (or next) update uses. */
  getLearningRate(): number {
    return this.learningRate;
  }
  /** tf.AdamOptimizer's update, in one kernel per variable where the backend has it. */
  override applyGradients(grads: Gradients): void {
    const state = {
      beta1: this.beta1,
      beta2: this.beta2,
      learningRate: this.learningRate,
      epsilon: this.epsilon,
      // tf.AdamOptimizer's own (private) state, read and updated as its applyGradients does.
      accBeta1: this['accBeta1'],
      accBeta2: this['accBeta2'],
      accumulatedFirstMoment: this['accumulatedFirstMoment'],
      accumulatedSecondMoment: this['accumulatedSecondMoment'],
    };
    if (hasFusedAdam() && fusedAdamUpdate(state, grads)) this.incrementIterations();
    else super.applyGradients(grads);
  }
}

/** Adam for a GAN: by default the DCGAN settings, lr 2e-4 and beta1 0.5 (beta2 0.999). */
export function ganOptimizer(
  lr: number = GAN_DEFAULTS.adam.lr,
  beta1: number = GAN_DEFAULTS.adam.beta1,
): GanAdam {
  return new GanAdam(lr, beta1, 0.999);
}

function update(
  which: 'discriminator' | 'generator',
  optimizer: tf.Optimizer,
  params: Params,
  loss: () => tf.Scalar,
): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, Object.values(params));
    const l = value.dataSync()[0];
    if (!Number.isFinite(l)) throw new NonFiniteGanLossError(which, l);
    optimizer.applyGradients(grads);
    return l;
  });
}

/**
 * One GAN step: the discriminator on `real` `[B, H, W, C]` (in [-1, 1]) against G(z) for `z`
 * `[B, latentDim]`, then the generator on the same z against the updated discriminator.
 * G(z) is computed once, on the generator's gradient tape; the discriminator's update takes a
 * copy of it (no gradient flows from the discriminator's loss into the generator), and the
 * generator's loss then uses the updated discriminator. With a categorical code (codes > 0 in
 * both networks) both losses add `infoWeight` x infoLoss of the code head on G(z): the
 * discriminator's update trains the head (and its features) to recover z's code, the generator's
 * makes the code recoverable (InfoGAN). With `realLabels` the discriminator's loss also adds
 * `labelWeight` x labelLoss of the code head on the real images (AC-GAN). Creates no tensors
 * that outlive it.
 */
export function ganStep(
  nets: GanNetworks,
  referenceZ: tf.Tensor | null,
  z: tf.Tensor,
  real: tf.Tensor,
  options: GanStepOptions = {},
): GanStepResult {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new VbnError(
      `ganStep: options must be an object { infoWeight, realLabels, labelWeight } but is ${String(options)}`,
    );
  }
  const {
    infoWeight = GAN_DEFAULTS.infoWeight,
    realLabels,
    labelWeight = GAN_DEFAULTS.labelWeight,
  } = options;
  checkNonNegative('ganStep', 'infoWeight', infoWeight);
  checkNonNegative('ganStep', 'labelWeight', labelWeight);
  const { generator: g, discriminator: d, gParams, dParams } = nets;
  if (g.config.codes !== d.config.codes) {
    throw new VbnError(
      `ganStep: the generator's z has ${g.config.codes} codes but the discriminator's code head has ${d.config.codes}`,
    );
  }
  if (realLabels && d.config.codes === 0) {
    throw new VbnError(
      'ganStep: realLabels need a code head (codes > 0) to classify the real images',
    );
  }
  // The adversarial loss of the fake images' heads, plus the code's.
  const withCode = (loss: tf.Scalar, heads: DiscriminatorHeads): tf.Scalar =>
    heads.codeLogits
      ? tf.add(loss, tf.mul(infoLoss(heads.codeLogits, z as tf.Tensor2D), infoWeight))
      : loss;
  let dLoss = NaN;
  const gLoss = update('generator', nets.gOptimizer, gParams, () => {
    const fake = g.apply(gParams, referenceZ, z);
    const data = tf.tensor(fake.dataSync(), fake.shape); // off the tape: the discriminator's data
    dLoss = update('discriminator', nets.dOptimizer, dParams, () => {
      const f = d.heads(dParams, data);
      if (!realLabels) return withCode(discriminatorLoss(d.apply(dParams, real), f.logits), f);
      const r = d.heads(dParams, real);
      const classes = tf.mul(labelLoss(r.codeLogits!, realLabels), labelWeight);
      return tf.add(withCode(discriminatorLoss(r.logits, f.logits), f), classes) as tf.Scalar;
    });
    const f = d.heads(dParams, fake);
    return withCode(generatorLoss(f.logits), f);
  });
  return { dLoss, gLoss };
}
