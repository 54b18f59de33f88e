/**
 * The differentiability contract, browser-safe: what every backend must differentiate, computed
 * on the active backend as plain arrays, so that test/contract (Node: cpu, wasm, native) and the
 * Chromium harness (cpu, wasm, webgl, webgpu) compare each backend with cpu the same way.
 * Values are read with `await t.data()` (webgpu on SwiftShader returns zeros from dataSync).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  VirtualBatchNormalization,
  createDiscriminator,
  createGenerator,
  createVbnNet,
  type GanNorm,
  type VbnNetConfig,
} from '../../src/core.js';
import { Random } from '../../src/util/random.js';

/** 'cached': two-pass with statistics from net.referenceStatistics, made outside the gradient. */
export type ContractStrategy = 'concat' | 'two-pass' | 'cached';

export interface NetCase {
  name: string;
  config: VbnNetConfig;
  strategy: ContractStrategy;
  /** Reference rows N and input rows B. */
  n: number;
  b: number;
  /** Data and parameter draw (default 0), and a mean added to the reference and the inputs. */
  seed?: number;
  offset?: number;
}

const base = { filters: [3, 4], numClasses: 3 };

/** Each strategy, mode, stopReferenceGradient and layout at least once; B != N and B = 1. */
export const NET_CASES: NetCase[] = [
  {
    name: 'concat virtual',
    config: { ...base, inputShape: [7, 7, 2] },
    strategy: 'concat',
    n: 3,
    b: 2,
  },
  {
    name: 'concat reference stop channelsFirst',
    config: {
      ...base,
      inputShape: [2, 7, 7],
      dataFormat: 'channelsFirst',
      mode: 'reference',
      stopReferenceGradient: true,
    },
    strategy: 'concat',
    n: 2,
    b: 3,
  },
  {
    name: 'concat virtual stop, strides 2 same',
    config: {
      ...base,
      inputShape: [8, 8, 1],
      strides: 2,
      padding: 'same',
      stopReferenceGradient: true,
    },
    strategy: 'concat',
    n: 4,
    b: 1,
  },
  {
    name: 'two-pass virtual',
    config: { ...base, inputShape: [7, 7, 2] },
    strategy: 'two-pass',
    n: 3,
    b: 2,
  },
  {
    name: 'two-pass reference channelsFirst',
    config: { ...base, inputShape: [2, 7, 7], dataFormat: 'channelsFirst', mode: 'reference' },
    strategy: 'two-pass',
    n: 2,
    b: 3,
  },
  {
    name: 'two-pass virtual stop',
    config: { ...base, inputShape: [7, 7, 1], stopReferenceGradient: true },
    strategy: 'two-pass',
    n: 3,
    b: 1,
  },
  {
    name: 'cached virtual',
    config: { ...base, inputShape: [7, 7, 2] },
    strategy: 'cached',
    n: 3,
    b: 2,
  },
  {
    name: 'cached reference channelsFirst',
    config: { ...base, inputShape: [2, 7, 7], dataFormat: 'channelsFirst', mode: 'reference' },
    strategy: 'cached',
    n: 2,
    b: 2,
  },
];

export const NORMS: GanNorm[] = ['vbn', 'bn', 'none'];

/** Named plain arrays: what a backend computed, to compare with cpu's. */
export type Values = Record<string, Float32Array>;

/** Deterministic normal samples, float32. */
export function normals(n: number, seed: number, std = 1): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => {
    const u = 1 - rng.next();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  });
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const tensor = (shape: number[], seed: number, std = 1) =>
  tf.tensor(normals(sizeOf(shape), seed, std), shape, 'float32');

/** A case's network, parameter values (gamma near 1) and data; the same on every backend. */
export function netInstance(c: NetCase) {
  const net = createVbnNet(c.config);
  const seed = 1000 * (c.seed ?? 0);
  const offset = c.offset ?? 0;
  const params: Record<string, tf.Tensor> = {};
  net.parameterNames.forEach((name, k) => {
    const shape = net.parameterShapes[name];
    const v = normals(sizeOf(shape), seed + 100 + k, name.endsWith('kernel') ? 0.5 : 0.1);
    params[name] = tf.tensor(name.endsWith('gamma') ? v.map((e) => 1 + e) : v, shape);
  });
  const shape = net.config.inputShape;
  const data = (rows: number, s: number, std: number) =>
    tf.tensor(
      normals(rows * sizeOf(shape), seed + s, std).map((v) => v + offset),
      [rows, ...shape],
    );
  const reference = data(c.n, 1, 1);
  const inputs = data(c.b, 2, 1.5);
  const projection = tensor([c.b, net.config.numClasses], seed + 3);
  return { net, params, reference, inputs, projection };
}

async function read(named: Record<string, tf.Tensor>): Promise<Values> {
  const out: Values = {};
  for (const [k, t] of Object.entries(named)) out[k] = (await t.data()) as Float32Array;
  return out;
}

/**
 * Logits and `tf.grads` of sum(logits * P) (P a fixed random projection) w.r.t. every parameter,
 * `reference` and `inputs` ('cached': parameters and inputs; the statistics are constants).
 */
export async function netGradients(c: NetCase): Promise<Values> {
  const { net, params, reference, inputs, projection } = netInstance(c);
  const names = [...net.parameterNames];
  const cached = c.strategy === 'cached';
  const stats = cached ? net.referenceStatistics(params, reference) : undefined;
  const strategy = c.strategy === 'concat' ? 'concat' : 'two-pass';
  const f = (...xs: tf.Tensor[]) => {
    const p = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
    const r = cached ? reference : xs[names.length];
    const x = xs[xs.length - 1];
    return tf.sum(tf.mul(net.apply(p, r, x, { strategy, statistics: stats }), projection));
  };
  const wrt = [...names.map((n) => params[n]), ...(cached ? [] : [reference]), inputs];
  const keys = [...names, ...(cached ? [] : ['reference']), 'inputs'];
  const grads = tf.grads(f)(wrt);
  const logits = net.apply(params, reference, inputs, { strategy, statistics: stats });
  const named = Object.fromEntries([['logits', logits], ...keys.map((k, i) => [k, grads[i]])]);
  const out = await read(named);
  tf.dispose([logits, ...grads, reference, inputs, projection, ...Object.values(params)]);
  stats?.forEach((s) => tf.dispose([s.mean, s.variance, s.meanOfSquares, s.pivot, s.offset]));
  return out;
}

/**
 * `tf.variableGrads` with the reference a trainable variable and a trainable per-channel scale
 * applied to the reference and the inputs before the network: every parameter, `reference` and
 * `scale` must be present (the reference's gradient zero under stopReferenceGradient).
 */
export async function variableGradients(c: NetCase): Promise<Values> {
  const { net, params, reference, inputs, projection } = netInstance(c);
  const channels =
    c.config.dataFormat === 'channelsFirst' ? c.config.inputShape[0] : c.config.inputShape[2];
  const vars = Object.fromEntries(
    Object.entries(params).map(([k, t]) => [k, tf.variable(t, true)]),
  );
  const refVar = tf.variable(reference, true);
  const scale = tf.variable(tf.add(1, tensor([channels], 4, 0.1)), true);
  const cshape = c.config.dataFormat === 'channelsFirst' ? [channels, 1, 1] : [channels];
  const strategy = c.strategy === 'concat' ? 'concat' : 'two-pass';
  const loss = () => {
    const s = tf.reshape(scale, cshape);
    const logits = net.apply(vars, tf.mul(refVar, s), tf.mul(inputs, s), { strategy });
    return tf.sum(tf.mul(logits, projection)) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss);
  const byVar = new Map<tf.Variable, string>([
    ...Object.entries(vars).map(([k, v]) => [v, k] as [tf.Variable, string]),
    [refVar, 'reference'],
    [scale, 'scale'],
  ]);
  const named: Record<string, tf.Tensor> = {};
  for (const [v, k] of byVar) if (grads[v.name]) named[k] = grads[v.name];
  const out = await read(named);
  tf.dispose([value, ...Object.values(grads), reference, inputs, projection, refVar, scale]);
  tf.dispose([...Object.values(vars), ...Object.values(params)]);
  return out;
}

/** Generator images' gradient w.r.t. z (and the reference latents for vbn) and every parameter. */
export async function generatorGradients(norm: GanNorm): Promise<Values> {
  const g = createGenerator({ latentDim: 6, filters: [4, 3], outputShape: [8, 8, 1], norm });
  const params = g.init(5);
  const names = [...g.parameterNames];
  const refZ = tensor([4, 6], 6);
  const z = tensor([3, 6], 7);
  const projection = tensor([3, 8, 8, 1], 8);
  // bn and none ignore the reference latents: no gradient path to them.
  const withRef = norm === 'vbn';
  const f = (...xs: tf.Tensor[]) => {
    const p = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
    const r = withRef ? xs[names.length] : refZ;
    return tf.sum(tf.mul(g.apply(p, r, xs[xs.length - 1]), projection));
  };
  const wrt = [...names.map((n) => params[n]), ...(withRef ? [refZ] : []), z];
  const grads = tf.grads(f)(wrt);
  const keys = [...names, ...(withRef ? ['referenceZ'] : []), 'z'];
  const out = await read(Object.fromEntries(keys.map((k, i) => [k, grads[i]])));
  tf.dispose([...grads, refZ, z, projection, ...Object.values(params)]);
  return out;
}

/** Discriminator logits' gradient w.r.t. the images and every parameter. */
export async function discriminatorGradients(): Promise<Values> {
  const d = createDiscriminator({ inputShape: [8, 8, 1], filters: [3, 4] });
  const params = d.init(9);
  const names = [...d.parameterNames];
  const images = tensor([3, 8, 8, 1], 10);
  const projection = tensor([3], 11);
  const f = (...xs: tf.Tensor[]) => {
    const p = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
    return tf.sum(tf.mul(d.apply(p, xs[names.length]), projection));
  };
  const grads = tf.grads(f)([...names.map((n) => params[n]), images]);
  const keys = [...names, 'images'];
  const out = await read(Object.fromEntries(keys.map((k, i) => [k, grads[i]])));
  tf.dispose([...grads, images, projection, ...Object.values(params)]);
  return out;
}

/**
 * A `tf.layers` model, trainable dense -> VirtualBatchNormalization -> dense, trained by
 * `model.fit`: how far (relative) each layer's weights moved.
 */
export async function layerFitMovement(): Promise<Record<string, number>> {
  const model = tfl.sequential({
    layers: [
      // No bias: VBN subtracts the mean, so a bias before it has no gradient (Adam would move it
      // by rounding noise alone).
      tfl.layers.dense({ units: 3, inputShape: [4], useBias: false, kernelInitializer: 'ones' }),
      new VirtualBatchNormalization({ referenceSize: 6 }),
      tfl.layers.dense({ units: 1, kernelInitializer: 'ones' }),
    ],
  });
  const before: Float32Array[][] = [];
  for (const l of model.layers) {
    before.push(
      await Promise.all(l.getWeights().map(async (w) => (await w.data()) as Float32Array)),
    );
  }
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
  const x = tensor([12, 4], 12);
  const y = tf.sum(tf.mul(x, tf.tensor1d([1, -2, 0.5, 3])), 1, true);
  await model.fit(x, y, { epochs: 5, batchSize: 12, verbose: 0, shuffle: false });
  // layer{i}/{j}: the j-th weight of layer i (layer 0: kernel; VBN: gamma, beta; layer 2: kernel, bias).
  const moved: Record<string, number> = {};
  for (const [i, l] of model.layers.entries()) {
    for (const [j, w] of l.getWeights().entries()) {
      const now = (await w.data()) as Float32Array;
      moved[`layer${i}/${j}`] = relativeErrors({ w: now }, { w: before[i][j] }).w;
    }
  }
  model.dispose();
  tf.dispose([x, y]);
  return moved;
}

/**
 * ||a-b|| / max(||b||, floor * sqrt(n)) per name (absolute where that is 0); a name missing from
 * `a` gives Infinity.
 */
export function relativeErrors(
  a: Record<string, ArrayLike<number>>,
  b: Record<string, ArrayLike<number>>,
  floor = 0,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, ref] of Object.entries(b)) {
    const got = a[k];
    if (!got || got.length !== ref.length) {
      out[k] = Infinity;
      continue;
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < ref.length; i++) {
      num += (got[i] - ref[i]) ** 2;
      den += ref[i] * ref[i];
    }
    const scale = Math.max(Math.sqrt(den), floor * Math.sqrt(ref.length));
    out[k] = scale === 0 ? Math.sqrt(num) : Math.sqrt(num) / scale;
  }
  return out;
}
