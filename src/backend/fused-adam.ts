import * as tf from '@tensorflow/tfjs-core';

/**
 * GanAdam's update through one kernel per variable where the backend has one (the native
 * backend's AdamUpdate): TensorFlow.js' Adam runs about a dozen element-wise kernels per
 * variable and step, each a pass over memory and a kernel call. The kernel computes the same
 * float32 operations in the same order, so the weights, moments and their checkpoints are the
 * same bits as tf.AdamOptimizer's.
 */
export const ADAM_KERNEL = 'AdamUpdate';

/** The kernel's attributes: the optimizer's settings and this step's bias corrections. */
export interface AdamAttrs {
  beta1: number;
  beta2: number;
  learningRate: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t, as float32 values (what tf.sub(1, accBeta) gives). */
  correction1: number;
  correction2: number;
}

interface Moment {
  originalName: string;
  variable: tf.Variable;
}

/** The state of tf.AdamOptimizer that an update reads and writes. */
export interface AdamState {
  beta1: number;
  beta2: number;
  learningRate: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}

/** What tf.Optimizer.applyGradients takes: gradients by variable name, or a list of them. */
export type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Whether the active backend has the kernel. */
export const hasFusedAdam = () => tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined;

/**
 * tf.AdamOptimizer.applyGradients' update (moments created on first use, as it creates them)
 * with one AdamUpdate kernel per variable; false, changing nothing, where a variable or gradient
 * is not float32 (then the caller runs tf.js' own update).
 */
export function fusedAdamUpdate(s: AdamState, grads: Gradients): boolean {
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const gradOf = (name: string, i: number) =>
    Array.isArray(grads) ? grads[i].tensor : (grads[name] as tf.Tensor | undefined);
  const variables = names.map((name) => tf.engine().registeredVariables[name]);
  const float = (t: tf.Tensor | undefined | null) => !t || t.dtype === 'float32';
  if (!variables.every((v, i) => float(v) && float(gradOf(names[i], i)))) return false;
  tf.tidy(() => {
    const correction1 = Math.fround(1 - s.accBeta1.dataSync()[0]);
    const correction2 = Math.fround(1 - s.accBeta2.dataSync()[0]);
    const attrs: AdamAttrs = {
      beta1: s.beta1,
      beta2: s.beta2,
      learningRate: s.learningRate,
      epsilon: s.epsilon,
      correction1,
      correction2,
    };
    names.forEach((name, i) => {
      const value = variables[i];
      const moment = (list: Moment[], suffix: string) =>
        (list[i] ??= {
          originalName: `${name}/${suffix}`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }).variable;
      const m = moment(s.accumulatedFirstMoment, 'm');
      const v = moment(s.accumulatedSecondMoment, 'v');
      const grad = gradOf(name, i);
      if (grad == null) return;
      const inputs = { value, m, v, grad };
      const out = tf
        .engine()
        .runKernel(ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(out[1]);
      v.assign(out[2]);
      value.assign(out[0]);
    });
    s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
    s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
  });
  return true;
}
