import * as tf from '@tensorflow/tfjs-core';
import { tfSeed } from '../util/random.js';
import type { VbnNet } from '../model/net.js';
import { computeLoss } from '../train/losses.js';
import { compare, type Agreement, type Tolerance } from './compare.js';
import { finiteDifferences, float64Run, type CheckData, type ParamValues } from './float64.js';
import type { Implementation } from './builtin.js';

/** Default tolerances; the README explains each. */
export const CHECK_TOLERANCES = {
  /** ||a-b||/||b|| for logits and gradients: float32 rounding in differently ordered sums. */
  relNorm: 1e-5,
  /** Trajectories compound rounding over steps: ten times the above. */
  trajectoryFactor: 10,
  /** fp32 gradients against float64 central differences (step 1e-4). */
  finiteDifferences: 1e-4,
};

export interface CheckOptions {
  /** The network whose parameters both implementations receive. */
  net: VbnNet;
  a: Implementation;
  b: Implementation;
  /** Parameter values by name (every backend gets the same). */
  params: Record<string, ParamValues>;
  /** Reference, inputs (in the network's layout) and labels. */
  data: CheckData;
  /** A smaller instance for finite differences (same network, fewer and smaller images). */
  smallData: CheckData;
  /** Backends to run on; the first is the reference for cross-backend rows (cpu when present). */
  backends: string[];
  /**
   * Makes a backend active. Default `tf.setBackend` (the backend must be registered already);
   * `prepareCheck` passes Node's `useBackend`, the web page the browser's.
   */
  switchBackend?: (name: string) => Promise<unknown>;
  /** Optimizer steps of the trajectory comparison (Adam). Default 20. */
  steps?: number;
  /** Learning rate of the trajectory. Default 0.01. */
  lr?: number;
  /** Relative tolerance for implementation comparisons. Default 1e-5. */
  tolerance?: number;
  /** Seed for the trajectory's batches. Default 0. */
  seed?: number;
}

export interface CheckRow extends Agreement {
  /** The kind of check: logits, gradient, fetch invariance, determinism, backend, float64, ... */
  check: string;
  /** What was compared with what, e.g. 'concat vs two-pass'. */
  compared: string;
  backend: string;
}

export interface CheckReport {
  ok: boolean;
  rows: CheckRow[];
  /** Where the implementations part, in words (empty when everything agrees). */
  divergence: string[];
  /** Checks that do not apply to this configuration, and why. */
  notes: string[];
}

interface Evaluated {
  logits: tf.Tensor;
  again: tf.Tensor;
  during: tf.Tensor;
  grads: Record<string, tf.Tensor>;
  activations: Record<string, tf.Tensor>;
}

/** Fresh, unnamed variables (tf.js variable names are global). */
function variables(params: Record<string, ParamValues>): Record<string, tf.Variable> {
  return tf.tidy(() =>
    Object.fromEntries(
      Object.entries(params).map(([n, p]) => [
        n,
        tf.variable(tf.tensor(Float32Array.from(p.values), p.shape), true),
      ]),
    ),
  );
}

function tensors(data: CheckData) {
  return {
    reference: tf.tensor(data.reference.values, data.reference.shape),
    inputs: tf.tensor(data.inputs.values, data.inputs.shape),
    labels: tf.tensor1d(data.labels, 'int32'),
  };
}

/** Logits alone (twice) and logits computed inside the gradient call, plus loss gradients. */
function evaluate(
  impl: Implementation,
  net: VbnNet,
  vars: Record<string, tf.Variable>,
  data: CheckData,
): Evaluated {
  const t = tensors(data);
  const activations: Record<string, tf.Tensor> = {};
  const made: tf.Tensor[] = [];
  try {
    const logits = tf.tidy(() => impl.apply(vars, t.reference, t.inputs, activations));
    made.push(logits);
    const again = tf.tidy(() => impl.apply(vars, t.reference, t.inputs));
    made.push(again);
    let during: tf.Tensor | null = null;
    const grads = tf.tidy(() => {
      const oneHot = tf.oneHot(t.labels, net.config.numClasses) as tf.Tensor2D;
      const { grads: g } = tf.variableGrads(() => {
        const l = impl.apply(vars, t.reference, t.inputs);
        during = tf.keep(tf.clone(l));
        return computeLoss('softmax-cross-entropy', oneHot, l as tf.Tensor2D);
      }, Object.values(vars));
      return Object.fromEntries(
        // A parameter the implementation never used has no entry: its gradient is zero.
        net.parameterNames.map((n) => [n, g[vars[n].name] ?? tf.zeros(vars[n].shape)]),
      );
    });
    return { logits, again, during: during!, grads, activations };
  } catch (e) {
    tf.dispose([...made, ...Object.values(activations)]);
    throw e;
  } finally {
    tf.dispose(Object.values(t));
  }
}

function disposeEvaluated(e: Evaluated): void {
  tf.dispose([
    e.logits,
    e.again,
    e.during,
    ...Object.values(e.grads),
    ...Object.values(e.activations),
  ]);
}

/** K Adam steps on seeded batches; losses per step and final weights. */
function trajectory(
  impl: Implementation,
  net: VbnNet,
  params: Record<string, ParamValues>,
  data: CheckData,
  steps: number,
  lr: number,
  seed: number,
): { losses: Float32Array; weights: Record<string, Float32Array> } {
  const vars = variables(params);
  const opt = tf.train.adam(lr);
  const reference = tf.tensor(data.reference.values, data.reference.shape);
  const losses = new Float32Array(steps);
  for (let k = 0; k < steps; k++) {
    const l = tf.tidy(() => {
      const x = tf.randomNormal(data.inputs.shape, 0, 1, 'float32', tfSeed(seed, k));
      const y = tf.randomUniform(
        [data.inputs.shape[0]],
        0,
        net.config.numClasses,
        'int32',
        tfSeed(seed, 2000 + k),
      );
      const oneHot = tf.oneHot(y as tf.Tensor1D, net.config.numClasses) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(
        () =>
          computeLoss(
            'softmax-cross-entropy',
            oneHot,
            impl.apply(vars, reference, x) as tf.Tensor2D,
          ),
        Object.values(vars),
      );
      opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      return value.dataSync()[0];
    });
    losses[k] = l;
  }
  const weights = Object.fromEntries(
    net.parameterNames.map((n) => [n, vars[n].dataSync().slice() as Float32Array]),
  );
  opt.dispose();
  tf.dispose([reference, ...Object.values(vars)]);
  return { losses, weights };
}

const flat = (names: readonly string[], g: Record<string, ArrayLike<number>>): Float64Array =>
  Float64Array.from(names.flatMap((n) => Array.from(g[n])));

/**
 * One comparison over every parameter at once (flattened in network order); when it fails, the
 * message also names the first parameter that disagrees on its own.
 */
function compareParameters(
  stage: string,
  names: readonly string[],
  a: Record<string, ArrayLike<number>>,
  b: Record<string, ArrayLike<number>>,
  tol: Tolerance,
): Agreement {
  const all = compare(
    stage,
    { shape: [-1], values: flat(names, a) },
    { shape: [-1], values: flat(names, b) },
    tol,
  );
  const first = names.find(
    (n) => !compare(n, { shape: [-1], values: a[n] }, { shape: [-1], values: b[n] }, tol).ok,
  );
  return first ? { ...all, message: `${all.message} (first: ${first})` } : all;
}

async function setBackendOrThrow(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialize`);
}

/** Runs every comparison and returns the table. */
export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const tol = o.tolerance ?? CHECK_TOLERANCES.relNorm;
  const steps = o.steps ?? 20;
  const lr = o.lr ?? 0.01;
  const seed = o.seed ?? 0;
  const switchBackend = o.switchBackend ?? setBackendOrThrow;
  const names = o.net.parameterNames;
  const rows: CheckRow[] = [];
  const divergence: string[] = [];
  const notes: string[] = [];
  const pair = `${o.a.name} vs ${o.b.name}`;
  const add = (check: string, compared: string, backend: string, a: Agreement) =>
    rows.push({ ...a, check, compared, backend });
  const rel: Tolerance = { relNorm: tol };
  const bitwise: Tolerance = { bitwise: true };
  const kept: Record<
    string,
    {
      a: { logits: Float32Array; grads: Record<string, Float32Array> };
      b: { logits: Float32Array; grads: Record<string, Float32Array> };
    }
  > = {};

  for (const backend of o.backends) {
    await switchBackend(backend);
    const vars = variables(o.params);
    let ea: Evaluated;
    let eb: Evaluated;
    try {
      ea = evaluate(o.a, o.net, vars, o.data);
      eb = evaluate(o.b, o.net, vars, o.data);
    } catch (e) {
      tf.dispose(Object.values(vars));
      throw e;
    }
    const logits = compare('logits', ea.logits, eb.logits, rel);
    add('logits', pair, backend, logits);
    let firstGrad: string | null = null;
    for (const n of names) {
      const g = compare(`gradient ${n}`, ea.grads[n], eb.grads[n], rel);
      add(`gradient ${n}`, pair, backend, g);
      if (!g.ok && firstGrad === null) firstGrad = n;
    }
    for (const [impl, e] of [
      [o.a, ea],
      [o.b, eb],
    ] as const) {
      add(
        'fetch invariance',
        `${impl.name}: logits alone vs with gradients`,
        backend,
        compare('fetch invariance', e.logits, e.during, bitwise),
      );
      add(
        'determinism',
        `${impl.name}: run 1 vs run 2`,
        backend,
        compare('determinism', e.logits, e.again, bitwise),
      );
    }
    if ((!logits.ok || firstGrad) && divergence.length === 0) {
      const common = Object.keys(ea.activations)
        .filter((k) => k in eb.activations)
        .sort(blockOrder);
      const first = common.find((k) => !compare(k, ea.activations[k], eb.activations[k], rel).ok);
      if (first) {
        const c = compare(first, ea.activations[first], eb.activations[first], rel);
        const before = common.slice(0, common.indexOf(first));
        divergence.push(
          `on ${backend}, the implementations part at ${first} (||a-b||/||b|| = ${c.relNorm.toExponential(2)})${before.length ? `; ${before.join(', ')} ${before.length === 1 ? 'agrees' : 'agree'}` : ''}`,
        );
      } else if (logits.ok && firstGrad) {
        divergence.push(
          `on ${backend}, the logits agree but the gradients do not; the first parameter (in network order) whose gradient differs is ${firstGrad}`,
        );
      } else if (!logits.ok) {
        divergence.push(
          `on ${backend}, the logits differ${firstGrad ? `; the first parameter whose gradient differs is ${firstGrad}` : ''}`,
        );
      }
    }
    const read = (e: Evaluated) => ({
      logits: e.logits.dataSync().slice() as Float32Array,
      grads: Object.fromEntries(
        names.map((n) => [n, e.grads[n].dataSync().slice() as Float32Array]),
      ),
    });
    kept[backend] = { a: read(ea), b: read(eb) };
    disposeEvaluated(ea);
    disposeEvaluated(eb);
    tf.dispose(Object.values(vars));

    if (steps > 0) {
      const ta = trajectory(o.a, o.net, o.params, o.data, steps, lr, seed);
      const tb = trajectory(o.b, o.net, o.params, o.data, steps, lr, seed);
      const ttol: Tolerance = { relNorm: tol * CHECK_TOLERANCES.trajectoryFactor };
      add(
        `trajectory: ${steps} losses`,
        pair,
        backend,
        compare(
          'trajectory losses',
          { shape: [steps], values: ta.losses },
          { shape: [steps], values: tb.losses },
          ttol,
        ),
      );
      add(
        'trajectory: final weights',
        pair,
        backend,
        compareParameters('trajectory final weights', names, ta.weights, tb.weights, ttol),
      );
    }
  }

  // Cross-backend: every backend against the first (cpu when present).
  const base = o.backends[0];
  for (const backend of o.backends.slice(1)) {
    for (const side of ['a', 'b'] as const) {
      const impl = side === 'a' ? o.a : o.b;
      const x = kept[backend][side];
      const y = kept[base][side];
      add(
        'backend: logits',
        `${impl.name}: ${backend} vs ${base}`,
        backend,
        compare(
          'backend logits',
          { shape: [-1], values: x.logits },
          { shape: [-1], values: y.logits },
          rel,
        ),
      );
      add(
        'backend: gradients',
        `${impl.name}: ${backend} vs ${base}`,
        backend,
        compareParameters('backend gradients', names, x.grads, y.grads, rel),
      );
    }
  }

  // Float64: the whole network written from its definition, and central differences.
  const f64 = float64Run(o.net.config, o.params, toChannelsLast(o.net, o.data));
  const coords = pickCoordinates(o.params, names, seed);
  const small = toChannelsLast(o.net, o.smallData);
  const fd = finiteDifferences(o.net.config, o.params, small, coords);
  await switchBackend(base);
  const agreesWith64: Record<string, boolean> = {};
  for (const side of ['a', 'b'] as const) {
    const impl = side === 'a' ? o.a : o.b;
    const mine = kept[base][side];
    const l = compare(
      'float64 logits',
      { shape: [-1], values: mine.logits },
      { shape: [-1], values: f64.logits },
      rel,
    );
    add('float64: logits', `${impl.name} vs float64`, base, l);
    const g = compareParameters('float64 gradients', names, mine.grads, f64.grads, rel);
    add('float64: gradients', `${impl.name} vs float64`, base, g);
    agreesWith64[side] = l.ok && g.ok;
    // fp32 gradients of the small instance at the chosen coordinates against central differences.
    // With stopReferenceGradient the gradient is deliberately not the derivative: not applicable.
    if (o.net.config.stopReferenceGradient) continue;
    const vars = variables(o.params);
    const e = evaluate(impl, o.net, vars, o.smallData);
    const at = Float64Array.from(coords, ([n, i]) => e.grads[n].dataSync()[i]);
    disposeEvaluated(e);
    tf.dispose(Object.values(vars));
    add(
      'finite differences',
      `${impl.name} vs central differences (${coords.length} entries)`,
      base,
      compare(
        'finite differences',
        { shape: [coords.length], values: at },
        { shape: [coords.length], values: fd },
        { relNorm: CHECK_TOLERANCES.finiteDifferences },
      ),
    );
  }
  if (agreesWith64.a !== agreesWith64.b) {
    const [good, bad] = agreesWith64.a ? [o.a, o.b] : [o.b, o.a];
    divergence.push(`${good.name} agrees with the float64 network; ${bad.name} does not`);
  }
  if (o.net.config.stopReferenceGradient) {
    notes.push(
      'finite differences: not applicable with stopReferenceGradient (the gradient deliberately omits the path through the statistics); the float64 rows check it',
    );
  }
  const fetch = rows.filter((r) => r.check === 'fetch invariance' && !r.ok);
  for (const r of fetch)
    divergence.push(
      `on ${r.backend}, ${r.compared.split(':')[0]} gives different logits when gradients are computed in the same call`,
    );
  return { ok: rows.every((r) => r.ok), rows, divergence, notes };
}

/** block0 < block1 < ... < block10, then anything else by name. */
function blockOrder(a: string, b: string): number {
  const na = /^block(\d+)$/.exec(a);
  const nb = /^block(\d+)$/.exec(b);
  if (na && nb) return Number(na[1]) - Number(nb[1]);
  return na ? -1 : nb ? 1 : a.localeCompare(b);
}

/** Three seeded entries of every parameter. */
function pickCoordinates(
  params: Record<string, ParamValues>,
  names: readonly string[],
  seed: number,
): [string, number][] {
  const out: [string, number][] = [];
  let s = (seed * 9301 + 49297) >>> 0;
  for (const n of names) {
    const size = params[n].values.length;
    for (let k = 0; k < Math.min(3, size); k++) {
      s = (s * 1103515245 + 12345) >>> 0;
      out.push([n, s % size]);
    }
  }
  return out;
}

/** The float64 network takes NHWC data. */
function toChannelsLast(net: VbnNet, d: CheckData): CheckData {
  if (net.config.dataFormat === 'channelsLast') return d;
  const tr = (x: { shape: number[]; values: Float32Array }) => {
    const [b, c, h, w] = x.shape;
    const out = new Float32Array(x.values.length);
    for (let n = 0; n < b; n++)
      for (let k = 0; k < c; k++)
        for (let i = 0; i < h * w; i++)
          out[(n * h * w + i) * c + k] = x.values[(n * c + k) * h * w + i];
    return { shape: [b, h, w, c], values: out };
  };
  return { reference: tr(d.reference), inputs: tr(d.inputs), labels: d.labels };
}
