import * as tf from '@tensorflow/tfjs-core';
import type { VbnNet } from '../model/net.js';
import { computeLoss } from '../train/losses.js';
import { tfSeed } from '../util/random.js';
import type { Implementation } from './builtin.js';
import type { ExternalImplementation, Values } from './external.js';
import type { CheckData, ParamValues } from './float64.js';

/** Either kind of implementation: TensorFlow.js code, or one that differentiates itself. */
export type AnyImplementation = Implementation | ExternalImplementation;

export const isExternal = (i: AnyImplementation): i is ExternalImplementation => 'forward' in i;

/** One implementation on one instance, as plain values. */
export interface Evaluation {
  /** Logits [B, K] of a logits-only call, twice (determinism), and of the gradient call. */
  logits: Values;
  again: Values;
  during: Values;
  /** Loss gradients by parameter name, plus 'reference' [N, ...]. */
  grads: Record<string, Values>;
  activations: Record<string, Values>;
}

const read = (t: tf.Tensor): Values => ({
  shape: [...t.shape],
  values: t.dataSync().slice() as Float32Array,
});

/** Fresh, unnamed variables (tf.js variable names are global). */
export function variables(params: Record<string, ParamValues>): Record<string, tf.Variable> {
  return tf.tidy(() =>
    Object.fromEntries(
      Object.entries(params).map(([n, p]) => [
        n,
        tf.variable(tf.tensor(Float32Array.from(p.values), p.shape), true),
      ]),
    ),
  );
}

function evaluateTfjs(
  impl: Implementation,
  net: VbnNet,
  params: Record<string, ParamValues>,
  data: CheckData,
): Evaluation {
  const vars = variables(params);
  const reference = tf.tidy(() =>
    tf.variable(tf.tensor(data.reference.values, data.reference.shape), true),
  );
  const inputs = tf.tensor(data.inputs.values, data.inputs.shape);
  const labels = tf.tensor1d(data.labels, 'int32');
  const record: Record<string, tf.Tensor> = {};
  try {
    const once = (r?: Record<string, tf.Tensor>) => {
      const t = tf.tidy(() => impl.apply(vars, reference, inputs, r));
      const v = read(t);
      t.dispose();
      return v;
    };
    const logits = once(record);
    const again = once();
    let during: Values | null = null;
    const gradTensors = tf.tidy(() => {
      const oneHot = tf.oneHot(labels, net.config.numClasses) as tf.Tensor2D;
      const { grads: g } = tf.variableGrads(() => {
        const l = impl.apply(vars, reference, inputs);
        during = read(l);
        return computeLoss('softmax-cross-entropy', oneHot, l as tf.Tensor2D);
      }, [...Object.values(vars), reference]);
      // A variable the implementation never used has no entry: its gradient is zero.
      const of = (v: tf.Variable) => g[v.name] ?? tf.zeros(v.shape);
      return {
        ...Object.fromEntries(net.parameterNames.map((n) => [n, of(vars[n])])),
        reference: of(reference),
      };
    });
    const grads = Object.fromEntries(Object.entries(gradTensors).map(([n, t]) => [n, read(t)]));
    tf.dispose(Object.values(gradTensors));
    const activations = Object.fromEntries(Object.entries(record).map(([k, v]) => [k, read(v)]));
    return { logits, again, during: during!, grads, activations };
  } finally {
    tf.dispose([...Object.values(vars), reference, inputs, labels, ...Object.values(record)]);
  }
}

async function evaluateExternal(
  impl: ExternalImplementation,
  params: Record<string, ParamValues>,
  data: CheckData,
): Promise<Evaluation> {
  const first = await impl.forward(params, data.reference, data.inputs, true);
  const again = await impl.forward(params, data.reference, data.inputs, false);
  const g = await impl.gradients(params, data.reference, data.inputs, data.labels);
  return {
    logits: first.logits,
    again: again.logits,
    during: g.logits,
    grads: g.grads,
    activations: first.activations,
  };
}

/** Logits alone (twice), logits in the same call as the loss gradients, and the activations. */
export async function evaluate(
  impl: AnyImplementation,
  net: VbnNet,
  params: Record<string, ParamValues>,
  data: CheckData,
): Promise<Evaluation> {
  return isExternal(impl)
    ? evaluateExternal(impl, params, data)
    : evaluateTfjs(impl, net, params, data);
}

/** Gradients of the loss on one batch, by variable name, and the loss. */
async function stepGradients(
  impl: AnyImplementation,
  net: VbnNet,
  vars: Record<string, tf.Variable>,
  reference: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor1D,
): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  const oneHot = tf.oneHot(y, net.config.numClasses) as tf.Tensor2D;
  try {
    if (!isExternal(impl)) {
      const { value, grads } = tf.variableGrads(
        () =>
          computeLoss(
            'softmax-cross-entropy',
            oneHot,
            impl.apply(vars, reference, x) as tf.Tensor2D,
          ),
        Object.values(vars),
      );
      const loss = value.dataSync()[0];
      value.dispose();
      return { loss, grads };
    }
    const params = Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, read(v)]));
    const labels = y.dataSync() as Int32Array;
    const r = await impl.gradients(params, read(reference), read(x), labels);
    const loss = tf.tidy(
      () =>
        computeLoss(
          'softmax-cross-entropy',
          oneHot,
          tf.tensor2d(r.logits.values, r.logits.shape as [number, number]),
        ).dataSync()[0],
    );
    const grads = Object.fromEntries(
      net.parameterNames.map((n) => [vars[n].name, tf.tensor(r.grads[n].values, r.grads[n].shape)]),
    );
    return { loss, grads };
  } finally {
    oneHot.dispose();
  }
}

/** K Adam steps (in TensorFlow.js) on seeded batches with the implementation's gradients. */
export async function trajectory(
  impl: AnyImplementation,
  net: VbnNet,
  params: Record<string, ParamValues>,
  data: CheckData,
  steps: number,
  lr: number,
  seed: number,
): Promise<{ losses: Float32Array; weights: Record<string, Float32Array> }> {
  const vars = variables(params);
  const opt = tf.train.adam(lr);
  const reference = tf.tensor(data.reference.values, data.reference.shape);
  const losses = new Float32Array(steps);
  try {
    for (let k = 0; k < steps; k++) {
      const x = tf.randomNormal(data.inputs.shape, 0, 1, 'float32', tfSeed(seed, k));
      const y = tf.randomUniform(
        [data.inputs.shape[0]],
        0,
        net.config.numClasses,
        'int32',
        tfSeed(seed, 2000 + k),
      ) as tf.Tensor1D;
      try {
        const { loss, grads } = await stepGradients(impl, net, vars, reference, x, y);
        losses[k] = loss;
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose(Object.values(grads));
      } finally {
        tf.dispose([x, y]);
      }
    }
    const weights = Object.fromEntries(
      net.parameterNames.map((n) => [n, vars[n].dataSync().slice() as Float32Array]),
    );
    return { losses, weights };
  } finally {
    opt.dispose();
    tf.dispose([reference, ...Object.values(vars)]);
  }
}

/** Logits alone, as plain values. */
export async function logitsOnly(
  impl: AnyImplementation,
  params: Record<string, ParamValues>,
  data: CheckData,
): Promise<Values> {
  if (isExternal(impl))
    return (await impl.forward(params, data.reference, data.inputs, false)).logits;
  const vars = variables(params);
  try {
    const logits = tf.tidy(() =>
      impl.apply(
        vars,
        tf.tensor(data.reference.values, data.reference.shape),
        tf.tensor(data.inputs.values, data.inputs.shape),
      ),
    );
    const out = read(logits);
    logits.dispose();
    return out;
  } finally {
    tf.dispose(Object.values(vars));
  }
}
