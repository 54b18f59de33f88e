import * as tf from '@tensorflow/tfjs-core';
import type { VbnNet } from '../model/net.js';
import { compare, flat, type Agreement, type Tolerance } from './compare.js';
import { localize, probeSplit } from './divergence.js';
import {
  evaluate,
  isExternal,
  trajectory,
  type AnyImplementation,
  type Evaluation,
} from './evaluate.js';
import { finiteDifferences, float64Run, type CheckData, type ParamValues } from './float64.js';
import { nhwcToNchw, toChannelsLast } from './layout.js';
import { probeVariants } from './variants.js';

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
  /** TensorFlow.js code, or an external implementation (a Python framework, another program). */
  a: AnyImplementation;
  b: AnyImplementation;
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

/** What the cross-backend and float64 rows need of one evaluation. */
interface Kept {
  logits: Float32Array;
  grads: Record<string, Float32Array>;
}

const keep = (e: Evaluation): Kept => ({
  logits: e.logits.values,
  grads: Object.fromEntries(Object.entries(e.grads).map(([n, v]) => [n, v.values])),
});

/** Flat values for a comparison of whole vectors. */
const plain = (values: ArrayLike<number>) => ({ shape: [-1], values });

/** Where an implementation's own rows (fetch invariance, determinism) ran. */
const whereRuns = (impl: AnyImplementation, backend: string) =>
  isExternal(impl) ? impl.runtime : backend;

/** Runs every comparison and returns the table. */
export async function runCheck(o: CheckOptions): Promise<CheckReport> {
  const tol = o.tolerance ?? CHECK_TOLERANCES.relNorm;
  const steps = o.steps ?? 20;
  const lr = o.lr ?? 0.01;
  const seed = o.seed ?? 0;
  const switchBackend = o.switchBackend ?? setBackendOrThrow;
  const names = o.net.parameterNames;
  const gradNames = [...names, 'reference'];
  const sides = [o.a, o.b] as const;
  const rows: CheckRow[] = [];
  const divergence: string[] = [];
  const notes: string[] = [];
  const pair = `${o.a.name} vs ${o.b.name}`;
  const add = (check: string, compared: string, backend: string, a: Agreement) =>
    rows.push({ ...a, check, compared, backend });
  const rel: Tolerance = { relNorm: tol };
  const bitwise: Tolerance = { bitwise: true };
  const kept: Record<string, Kept[]> = {};
  // An external implementation does not run on a TensorFlow.js backend: evaluate it once.
  const evaluations = new Map<AnyImplementation, Evaluation>();
  const trajectories = new Map<AnyImplementation, Awaited<ReturnType<typeof trajectory>>>();
  const evaluateOnce = async (impl: AnyImplementation) => {
    const cached = evaluations.get(impl);
    if (cached) return cached;
    const e = await evaluate(impl, o.net, o.params, o.data);
    if (isExternal(impl)) evaluations.set(impl, e);
    return e;
  };
  const trajectoryOnce = async (impl: AnyImplementation) => {
    const cached = trajectories.get(impl);
    if (cached) return cached;
    const t = await trajectory(impl, o.net, o.params, o.data, steps, lr, seed);
    if (isExternal(impl)) trajectories.set(impl, t);
    return t;
  };

  for (const [k, backend] of o.backends.entries()) {
    await switchBackend(backend);
    const [ea, eb] = [await evaluateOnce(o.a), await evaluateOnce(o.b)];
    const logits = compare('logits', ea.logits, eb.logits, rel);
    add('logits', pair, backend, logits);
    let firstGrad: string | null = null;
    for (const n of gradNames) {
      const g = compare(`gradient ${n}`, ea.grads[n], eb.grads[n], rel);
      add(`gradient ${n}`, pair, backend, g);
      if (!g.ok && firstGrad === null) firstGrad = n;
    }
    for (const [impl, e] of [
      [o.a, ea],
      [o.b, eb],
    ] as const) {
      if (isExternal(impl) && k > 0) continue; // the same numbers as on the first backend
      const where = whereRuns(impl, backend);
      const during = compare('fetch invariance', e.logits, e.during, bitwise);
      add('fetch invariance', `${impl.name}: logits alone vs with gradients`, where, during);
      const again = compare('determinism', e.logits, e.again, bitwise);
      add('determinism', `${impl.name}: run 1 vs run 2`, where, again);
    }
    const where = localize(backend, logits, firstGrad, ea.activations, eb.activations, rel);
    if (where && divergence.length === 0) divergence.push(where);
    kept[backend] = [keep(ea), keep(eb)];

    if (steps > 0) {
      const ta = await trajectoryOnce(o.a);
      const tb = await trajectoryOnce(o.b);
      const ttol: Tolerance = { relNorm: tol * CHECK_TOLERANCES.trajectoryFactor };
      const losses = compare('trajectory losses', plain(ta.losses), plain(tb.losses), ttol);
      add(`trajectory: ${steps} losses`, pair, backend, losses);
      const weights = compareParameters(
        'trajectory final weights',
        names,
        ta.weights,
        tb.weights,
        ttol,
      );
      add('trajectory: final weights', pair, backend, weights);
    }
  }

  // Cross-backend: every backend against the first (cpu when present).
  const base = o.backends[0];
  for (const backend of o.backends.slice(1)) {
    sides.forEach((impl, s) => {
      if (isExternal(impl)) return;
      const [x, y] = [kept[backend][s], kept[base][s]];
      const compared = `${impl.name}: ${backend} vs ${base}`;
      add(
        'backend: logits',
        compared,
        backend,
        compare('backend logits', plain(x.logits), plain(y.logits), rel),
      );
      add(
        'backend: gradients',
        compared,
        backend,
        compareParameters('backend gradients', gradNames, x.grads, y.grads, rel),
      );
    });
  }
  if (o.backends.length > 1) {
    for (const impl of sides)
      if (isExternal(impl))
        notes.push(
          `backend rows: not applicable to ${impl.name} (it runs in ${impl.runtime}, not on a TensorFlow.js backend)`,
        );
  }

  // Float64: the whole network written from its definition, and central differences.
  const f64 = float64Run(o.net.config, o.params, toChannelsLast(o.net, o.data));
  const f64Grads: Record<string, Float64Array> = {
    ...f64.grads,
    reference:
      o.net.config.dataFormat === 'channelsFirst'
        ? nhwcToNchw({
            shape: toChannelsLast(o.net, o.data).reference.shape,
            values: f64.referenceGrad,
          }).values
        : f64.referenceGrad,
  };
  const coords = pickCoordinates(o.params, names, seed);
  const small = toChannelsLast(o.net, o.smallData);
  const fd = finiteDifferences(o.net.config, o.params, small, coords);
  await switchBackend(base);
  const agreesWith64: boolean[] = [];
  for (const [s, impl] of sides.entries()) {
    const mine = kept[base][s];
    const where = whereRuns(impl, base);
    const l = compare('float64 logits', plain(mine.logits), plain(f64.logits), rel);
    add('float64: logits', `${impl.name} vs float64`, where, l);
    const g = compareParameters('float64 gradients', gradNames, mine.grads, f64Grads, rel);
    add('float64: gradients', `${impl.name} vs float64`, where, g);
    agreesWith64[s] = l.ok && g.ok;
    // fp32 gradients of the small instance at the chosen coordinates against central differences.
    // With stopReferenceGradient the gradient is deliberately not the derivative: not applicable.
    if (o.net.config.stopReferenceGradient) continue;
    const e = await evaluate(impl, o.net, o.params, o.smallData);
    const at = Float64Array.from(coords, ([n, i]) => e.grads[n].values[i]);
    add(
      'finite differences',
      `${impl.name} vs central differences (${coords.length} entries)`,
      where,
      compare('finite differences', plain(at), plain(fd), {
        relNorm: CHECK_TOLERANCES.finiteDifferences,
      }),
    );
  }
  if (agreesWith64[0] !== agreesWith64[1]) {
    const [good, bad] = agreesWith64[0] ? [o.a, o.b] : [o.b, o.a];
    divergence.push(`${good.name} agrees with the float64 network; ${bad.name} does not`);
  }
  for (const [s, impl] of sides.entries()) {
    if (agreesWith64[s]) continue;
    const data = toChannelsLast(o.net, o.data);
    const hint = probeVariants(o.net.config, names, o.params, data, kept[base][s], rel);
    if (hint) divergence.push(`${impl.name}: ${hint}`);
  }
  if (rows.some((r) => r.check === 'logits' && !r.ok)) {
    const suspect = agreesWith64[0] === agreesWith64[1] ? null : agreesWith64[0] ? o.b : o.a;
    const split = await probeSplit(o.a, o.b, o.params, o.data, rel, suspect);
    if (split) divergence.push(split);
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
