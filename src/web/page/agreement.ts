import * as tf from '@tensorflow/tfjs-core';
import { compare, type Tolerance } from '../../check/compare.js';
import type { CheckData, ParamValues } from '../../check/float64.js';
import type { CheckReport, CheckRow } from '../../check/run.js';
import type { Strategy } from '../../model/config.js';
import type { ParamTensors, VbnNet } from '../../model/net.js';
import { computeLoss } from '../../train/losses.js';
import { Random } from '../../util/random.js';

/**
 * The agreement panel's checks, a browser-sized subset of `vbn check` built on the same `compare`:
 * on every backend the two strategies against each other (logits, the gradient of every
 * parameter and of the reference, and fetch invariance), and every backend against the first
 * (cpu) for both strategies. Float64 and finite differences stay with `vbn check` (too slow in a
 * page for a 28x28 network).
 */

/**
 * Logits [B, K], the logits computed inside the gradient call, d L / d (every parameter and the
 * reference), and the shape of each (by the same names, plus 'logits').
 *
 * L = sum(logits * U) with a fixed random U [B, K], not the training loss: the softmax loss's
 * gradient vanishes as the network learns (dense/bias is a sum of p - y over the batch), and the
 * relative error of a vanishing vector measures rounding, not agreement. U keeps every gradient
 * the size of the network's sensitivity at any stage of training. `objective: 'loss'` gives the
 * softmax cross-entropy's gradients instead (what the float64 oracle computes).
 */
export interface Evaluated {
  logits: Float32Array;
  during: Float32Array;
  grads: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
}

/** Plain values of parameter tensors (what moves between backends). */
export function paramValues(net: VbnNet, params: ParamTensors): Record<string, ParamValues> {
  return Object.fromEntries(
    net.parameterNames.map((n) => [
      n,
      { shape: [...params[n].shape], values: params[n].dataSync().slice() as Float32Array },
    ]),
  );
}

/**
 * Runs the network on the active backend and reads the results back asynchronously (webgpu's
 * synchronous reads return zeros on some adapters, SwiftShader among them); frees every tensor.
 */
export async function logitsAndGradients(
  net: VbnNet,
  params: Record<string, ParamValues>,
  data: CheckData,
  strategy: Strategy,
  objective: 'projection' | 'loss' = 'projection',
): Promise<Evaluated> {
  const names = net.parameterNames;
  const all = [...names, 'reference'];
  let during: tf.Tensor | null = null;
  const [logits, ...grads] = tf.tidy(() => {
    const xs = names.map((n) => tf.tensor(params[n].values, params[n].shape));
    const reference = tf.tensor(data.reference.values, data.reference.shape);
    const inputs = tf.tensor(data.inputs.values, data.inputs.shape);
    const oneHot = tf.oneHot(tf.tensor1d(data.labels, 'int32'), net.config.numClasses);
    const u = tf.tensor2d(projection(data.inputs.shape[0], net.config.numClasses), [
      data.inputs.shape[0],
      net.config.numClasses,
    ]);
    const run = (ts: tf.Tensor[]) =>
      net.apply(Object.fromEntries(names.map((n, i) => [n, ts[i]])), ts[names.length], inputs, {
        strategy,
      });
    const alone = run([...xs, reference]);
    const g = tf.grads((...ts: tf.Tensor[]) => {
      const l = run(ts);
      during = tf.keep(tf.clone(l));
      return objective === 'loss'
        ? computeLoss('softmax-cross-entropy', oneHot as tf.Tensor2D, l as tf.Tensor2D)
        : tf.sum(tf.mul(l, u));
    })([...xs, reference]);
    return [alone, ...g];
  });
  const made = [logits, during!, ...grads];
  try {
    const [l, d, ...g] = await Promise.all(made.map((t) => t.data() as Promise<Float32Array>));
    return {
      logits: l,
      during: d,
      grads: Object.fromEntries(all.map((n, i) => [n, g[i]])),
      shapes: {
        logits: [...logits.shape],
        ...Object.fromEntries(all.map((n, i) => [n, [...grads[i].shape]])),
      },
    };
  } finally {
    tf.dispose(made);
  }
}

/** The fixed weights U [B, K] of the checked projection, uniform in [-1, 1). */
function projection(b: number, k: number): Float32Array {
  const rng = new Random(0xa9ee);
  return Float32Array.from({ length: b * k }, () => 2 * rng.next() - 1);
}

export interface AgreementInput {
  net: VbnNet;
  params: Record<string, ParamValues>;
  data: CheckData;
  /** The first is the reference for cross-backend rows (cpu). */
  backends: string[];
  switchBackend(name: string): Promise<unknown>;
  /** Bound on ||a-b||/||b||. */
  tolerance: number;
}

const STRATEGY_PAIR: [Strategy, Strategy] = ['concat', 'two-pass'];

function rowsFor(
  check: string,
  compared: string,
  backend: string,
  a: Evaluated,
  b: Evaluated,
  tol: Tolerance,
): CheckRow[] {
  const side = (e: Evaluated, key: string) => ({
    shape: e.shapes[key],
    values: key === 'logits' ? e.logits : e.grads[key],
    dtype: 'float32',
  });
  const keys = ['logits', ...Object.keys(a.grads).map((k) => `gradient ${k}`)];
  return keys.map((k) => {
    const key = k.replace('gradient ', '');
    const stage = `${check}${k}`;
    return {
      ...compare(stage, side(a, key), side(b, key), tol),
      check: stage,
      compared,
      backend,
    };
  });
}

/** The table: strategies against each other per backend, then each backend against the first. */
export async function agreementReport(o: AgreementInput): Promise<CheckReport> {
  const tol: Tolerance = { relNorm: o.tolerance };
  const rows: CheckRow[] = [];
  const kept: Record<string, Record<Strategy, Evaluated>> = {};
  for (const backend of o.backends) {
    await o.switchBackend(backend);
    const a = await logitsAndGradients(o.net, o.params, o.data, 'concat');
    const b = await logitsAndGradients(o.net, o.params, o.data, 'two-pass');
    kept[backend] = { concat: a, 'two-pass': b };
    rows.push(...rowsFor('', 'concat vs two-pass', backend, a, b, tol));
    for (const [s, e] of [
      ['concat', a],
      ['two-pass', b],
    ] as const) {
      const flat = (values: Float32Array) => ({ shape: [values.length], values, dtype: 'float32' });
      const fetch = compare('fetch invariance', flat(e.during), flat(e.logits), { bitwise: true });
      rows.push({
        ...fetch,
        check: 'fetch invariance',
        compared: `${s}: logits alone vs with gradients`,
        backend,
      });
    }
  }
  const base = o.backends[0];
  for (const backend of o.backends.slice(1)) {
    for (const s of STRATEGY_PAIR) {
      rows.push(
        ...rowsFor(
          'backend: ',
          `${s}: ${backend} vs ${base}`,
          backend,
          kept[backend][s],
          kept[base][s],
          tol,
        ),
      );
    }
  }
  const failed = rows.filter((r) => !r.ok);
  return {
    ok: failed.length === 0,
    rows,
    divergence: failed.map((r) => `${r.backend}: ${r.message}`),
    notes: ['float64 and finite differences: run `npx vbn check` (too slow for a page)'],
  };
}
