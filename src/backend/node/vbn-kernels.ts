import type * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as K from '../kernel-names.js';
import { VbnError } from '../../errors.js';
import type { NativeAddon } from './addon-spec.js';
import { allocate, allocateOutput, mayOverwrite } from './memory.js';
import { sizeOf, typedKernel, values, type KernelFunc } from './kernel-util.js';

/**
 * The fused VBN kernels (contract: kernel-names.ts) on the engine's vbn.cc. Every kernel views
 * x `[B, ..., C]` as `[rows = B, spatial, channels = C]`; outputs are allocated here, once per call.
 */
type Info = tf.TensorInfo;
type Floats = Float32Array;

/** x `[B, ..., C]` seen as `[rows = B, spatial, channels = C]` (the addon checks the counts). */
function rowView(x: Info): { rows: number; spatial: number; channels: number } {
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape[0];
  return { rows, spatial: sizeOf(x.shape) / (rows * channels), channels };
}

const perChannel = (count: number, channels: number) =>
  Array.from({ length: count }, () => new Float32Array(Math.max(0, channels || 0)));

interface Stats {
  meanHi: Floats;
  meanLo: Floats;
  variance: Floats;
}

/** Float32 values of a kernel's inputs, named in its errors. */
const reader = (backend: MathBackendCPU, kernel: string) => (t: Info, name: string) =>
  values(backend, t, kernel, name);

/** The arguments vbnNormalize and vbnNormalizePool share after x and the row view. */
function normalizeParams(
  get: ReturnType<typeof reader>,
  inputs: Pick<K.AffineInputs, 'gamma' | 'beta' | 'rowWeights'>,
  stats: Stats,
  epsilon: number,
) {
  return {
    meanHi: stats.meanHi,
    meanLo: stats.meanLo,
    varR: stats.variance,
    gamma: get(inputs.gamma, 'gamma'),
    beta: get(inputs.beta, 'beta'),
    rowWeights: get(inputs.rowWeights, 'rowWeights'),
    epsilon,
  };
}

/** The statistics the kernel was given (all three), else those of x's first `rows` rows. */
function givenOrReferenceStats(
  a: NativeAddon,
  get: ReturnType<typeof reader>,
  given: K.GivenStatsInputs,
  x: Floats,
  v: { spatial: number; channels: number },
  rows: number,
  kernel: string,
): Stats {
  const { hi, lo, variance } = given;
  if (!hi && !lo && !variance) return referenceStats(a, x, v, rows);
  if (!hi || !lo || !variance) {
    const got = Object.entries({ hi, lo, variance }).flatMap(([k, t]) => (t ? [k] : []));
    throw new VbnError(
      `${kernel}: the statistics hi, lo and variance are given all three or none, but got ${got.join(', ')}`,
    );
  }
  return givenStats(get, { hi, lo, variance });
}

/** A kernel's statistics inputs hi, lo, variance `[C]` as Stats. */
const givenStats = (get: ReturnType<typeof reader>, s: Required<K.GivenStatsInputs>): Stats => ({
  meanHi: get(s.hi, 'hi'),
  meanLo: get(s.lo, 'lo'),
  variance: get(s.variance, 'variance'),
});

/** The statistics of the first `rows` rows of x's values, seen as `[B, S, C]` by `v`. */
function referenceStats(
  a: NativeAddon,
  x: Floats,
  v: { spatial: number; channels: number },
  rows: number,
): Stats {
  const [meanHi, meanLo, variance] = perChannel(3, v.channels);
  a.vbnStats({ x, rows, spatial: v.spatial, channels: v.channels, meanHi, meanLo, variance });
  return { meanHi, meanLo, variance };
}

const vectors = (backend: MathBackendCPU, channels: number, list: Floats[]) =>
  list.map((t) => backend.makeTensorInfo([channels], 'float32', t));

/** VBN normalization (+ ReLU) of x against the statistics, shared by VbnNormalize and VbnLayer. */
function normalize(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: K.AffineInputs,
  attrs: K.VbnNormalizeAttrs,
  stats: Stats,
  kernel: string,
): [Info, Info] {
  const { x } = inputs;
  const get = reader(backend, kernel);
  const v = rowView(x);
  const out = allocateOutput(sizeOf(x.shape));
  const rowStats = new Float32Array(Math.max(0, v.rows * 2 * v.channels));
  a.vbnNormalize({
    x: get(x, 'x'),
    ...v,
    ...normalizeParams(get, inputs, stats, attrs.epsilon),
    relu: attrs.relu,
    out,
    rowStats,
  });
  return [
    backend.makeTensorInfo(x.shape, 'float32', out),
    backend.makeTensorInfo([v.rows, 2, v.channels], 'float32', rowStats),
  ];
}

/**
 * VbnLayerLeanGrad's own buffers in place of the layer's output and statistics tensors: no `out`
 * and no rowStats (the ReLU mask and per-row statistics are recomputed from x with these
 * statistics and the kernel's beta and epsilon); dx may be x's own values.
 */
interface GradSources extends Stats {
  dx: Floats;
  beta: Floats;
  epsilon: number;
  /** dy is the pooled gradient `[B - pooledFrom, C]` of the spatial mean of rows pooledFrom.. */
  pooledFrom?: number;
}

/** What normalizeGrad reads: VbnNormalizeGrad's or VbnLayerGrad's inputs, or the lean ones. */
type GradInputs =
  | (K.VbnNormalizeGradInputs & { dMeanExt?: Info; dVarExt?: Info })
  | (K.VbnLayerLeanGradInputs & { dMeanExt?: undefined; dVarExt?: undefined });

/**
 * The backward pass of VBN normalization (+ ReLU), shared by VbnNormalizeGrad, VbnLayerGrad and
 * VbnLayerLeanGrad. statsRows > 0: the statistics came from the first statsRows rows of x
 * (VbnLayer), and their own gradient, with dMeanExt/dVarExt from other consumers, is added to
 * those rows' dx.
 */
function normalizeGrad(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: GradInputs,
  relu: boolean,
  statsRows: number,
  kernel: string,
  sources?: GradSources,
) {
  const { dy, x, gamma, rowWeights, dMeanExt, dVarExt } = inputs;
  const get = reader(backend, kernel);
  const v = rowView(x);
  const dx = sources?.dx ?? allocateOutput(sizeOf(x.shape));
  const [dMean, dVarR, dGamma, dBeta] = perChannel(4, v.channels);
  const saved =
    'out' in inputs && !sources
      ? {
          out: get(inputs.out, 'out'),
          meanHi: get(inputs.hi, 'hi'),
          meanLo: get(inputs.lo, 'lo'),
          rowStats: get(inputs.rowStats, 'rowStats'),
        }
      : undefined;
  const recompute = sources && {
    out: null,
    meanHi: sources.meanHi,
    meanLo: sources.meanLo,
    rowStats: null,
    pooledFrom: sources.pooledFrom,
    varR: sources.variance,
    beta: sources.beta,
    epsilon: sources.epsilon,
  };
  const mode = saved ?? recompute;
  if (!mode) throw new Error(`${kernel}: neither the layer's outputs nor lean sources`);
  a.vbnNormalizeGrad({
    dy: get(dy, 'dy'),
    x: get(x, 'x'),
    ...v,
    ...mode,
    gamma: get(gamma, 'gamma'),
    rowWeights: get(rowWeights, 'rowWeights'),
    relu,
    dx,
    dMean,
    dVarR,
    dGamma,
    dBeta,
    statsRows,
    dMeanExt: dMeanExt ? get(dMeanExt, 'dMeanExt') : null,
    dVarExt: dVarExt ? get(dVarExt, 'dVarExt') : null,
  });
  return { dx, dMean, dVar: dVarR, dGamma, dBeta };
}

type Grads = Record<'dx' | 'dMean' | 'dVar' | 'dGamma' | 'dBeta', Floats>;

/** dx (x's shape; by default a tensor of g.dx), then the per-channel gradients named (each `[C]`). */
function gradTensors(
  backend: MathBackendCPU,
  x: Info,
  g: Grads,
  names: ('dMean' | 'dVar' | 'dGamma' | 'dBeta')[],
  dx: Info = backend.makeTensorInfo(x.shape, 'float32', g.dx),
): Info[] {
  const channels = x.shape[x.shape.length - 1];
  return [dx, ...names.map((n) => backend.makeTensorInfo([channels], 'float32', g[n]))];
}

const vbnStats = (a: NativeAddon) =>
  typedKernel<K.VbnStatsInputs, K.VbnStatsAttrs>(({ inputs: { x }, backend, attrs }) => {
    const v = rowView(x);
    const rows = attrs.rows ?? v.rows;
    const s = referenceStats(a, values(backend, x, K.VbnStats, 'x'), v, rows);
    return vectors(backend, v.channels, [s.meanHi, s.meanLo, s.variance]);
  });

const vbnStatsGrad = (a: NativeAddon) =>
  typedKernel<K.VbnStatsGradInputs, K.VbnStatsGradAttrs>(({ inputs, backend, attrs }) => {
    const { x, hi, lo, dMean, dVar } = inputs;
    const get = reader(backend, K.VbnStatsGrad);
    const v = rowView(x);
    const dx = allocate(sizeOf(x.shape)); // rows beyond `rows` keep their zeros
    a.vbnStatsGrad({
      x: get(x, 'x'),
      rows: attrs.rows ?? v.rows,
      spatial: v.spatial,
      channels: v.channels,
      meanHi: get(hi, 'hi'),
      meanLo: get(lo, 'lo'),
      dMean: get(dMean, 'dMean'),
      dVar: get(dVar, 'dVar'),
      dx,
    });
    return backend.makeTensorInfo(x.shape, 'float32', dx);
  });

const vbnNormalize = (a: NativeAddon) =>
  typedKernel<K.VbnNormalizeInputs, K.VbnNormalizeAttrs>(({ inputs, backend, attrs }) => {
    const stats = givenStats(reader(backend, K.VbnNormalize), inputs);
    return normalize(a, backend, inputs, attrs, stats, K.VbnNormalize);
  });

const vbnNormalizeGrad = (a: NativeAddon) =>
  typedKernel<K.VbnNormalizeGradInputs, K.VbnNormalizeGradAttrs>(({ inputs, backend, attrs }) => {
    const g = normalizeGrad(a, backend, inputs, attrs.relu, 0, K.VbnNormalizeGrad);
    return gradTensors(backend, inputs.x, g, ['dMean', 'dVar', 'dGamma', 'dBeta']);
  });

/** Statistics of the first `statsRows` rows and normalization of every row, in one op. */
const vbnLayer = (a: NativeAddon) =>
  typedKernel<K.VbnLayerInputs, K.VbnLayerAttrs>(({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const v = rowView(x);
    const stats = referenceStats(a, values(backend, x, K.VbnLayer, 'x'), v, attrs.statsRows);
    const [out, rowStats] = normalize(a, backend, inputs, attrs, stats, K.VbnLayer);
    const { meanHi, meanLo, variance } = stats;
    return [out, rowStats, ...vectors(backend, v.channels, [meanHi, meanLo, variance])];
  });

const vbnLayerGrad = (a: NativeAddon) =>
  typedKernel<K.VbnLayerGradInputs, K.VbnLayerGradAttrs>(({ inputs, backend, attrs }) => {
    // With stopReferenceGradient no gradient goes through the statistics: statsRows 0.
    const statsRows = attrs.stop ? 0 : attrs.statsRows;
    const g = normalizeGrad(a, backend, inputs, attrs.relu, statsRows, K.VbnLayerGrad);
    return gradTensors(backend, inputs.x, g, ['dGamma', 'dBeta']);
  });

/** SpatialMean(VbnLayer(x), fromRow) without storing the normalized rows: [B - fromRow, C]. */
const vbnLayerPool = (a: NativeAddon) =>
  typedKernel<K.VbnLayerPoolInputs, K.VbnLayerPoolAttrs>(({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const get = reader(backend, K.VbnLayerPool);
    const v = rowView(x);
    const from = attrs.fromRow;
    const xv = get(x, 'x');
    const stats = givenOrReferenceStats(a, get, inputs, xv, v, attrs.statsRows, K.VbnLayerPool);
    const out = new Float32Array(Math.max(0, (v.rows - from) * v.channels));
    a.vbnNormalizePool({
      x: xv,
      ...v,
      ...normalizeParams(get, inputs, stats, attrs.epsilon),
      out,
      fromRow: from,
    });
    return backend.makeTensorInfo([v.rows - from, v.channels], 'float32', out);
  });

/**
 * VbnLayerGrad without the layer's output: statistics and ReLU mask are recomputed from x (the
 * forward's bits). dy is the output's gradient, or with attrs.fromRow the pooled gradient
 * [B - fromRow, C] of VbnLayerPool (no [B, S, C] gradient stored). With attrs.inPlace and x's
 * data private (held by no other tensor; an engine output never read out or viewed: mayOverwrite),
 * dx is written over x's values (each element read before it is written) and returned as x's
 * data: the caller gives x up.
 */
const vbnLayerLeanGrad = (a: NativeAddon) =>
  typedKernel<K.VbnLayerLeanGradInputs, K.VbnLayerLeanGradAttrs>(({ inputs, backend, attrs }) => {
    const { x } = inputs;
    const get = reader(backend, K.VbnLayerLeanGrad);
    const v = rowView(x);
    const xv = get(x, 'x');
    const stats = givenOrReferenceStats(a, get, inputs, xv, v, attrs.statsRows, K.VbnLayerLeanGrad);
    const inPlace =
      attrs.inPlace === true && backend.data.get(x.dataId).refCount === 1 && mayOverwrite(xv);
    const dx = inPlace ? xv : allocateOutput(sizeOf(x.shape));
    const statsRows = attrs.stop ? 0 : attrs.statsRows;
    const beta = get(inputs.beta, 'beta');
    const sources = { ...stats, dx, beta, epsilon: attrs.epsilon, pooledFrom: attrs.fromRow };
    const g = normalizeGrad(a, backend, inputs, attrs.relu, statsRows, K.VbnLayerLeanGrad, sources);
    if (!inPlace) return gradTensors(backend, x, g, ['dGamma', 'dBeta']);
    backend.incRef(x.dataId); // dx is x's data, now held by the gradient too
    const dxInfo = { dataId: x.dataId, shape: x.shape, dtype: 'float32' as const };
    return gradTensors(backend, x, g, ['dGamma', 'dBeta'], dxInfo);
  });

const spatialMean = (a: NativeAddon) =>
  typedKernel<K.SpatialMeanInputs, K.SpatialMeanAttrs>(({ inputs: { x }, backend, attrs }) => {
    const v = rowView(x);
    const fromRow = attrs.fromRow ?? 0;
    const out = new Float32Array(Math.max(0, (v.rows - fromRow) * v.channels));
    a.spatialMean({ x: values(backend, x, K.SpatialMean, 'x'), ...v, out, fromRow });
    return backend.makeTensorInfo([v.rows - fromRow, v.channels], 'float32', out);
  });

const spatialMeanGrad = (a: NativeAddon) =>
  typedKernel<K.SpatialMeanGradInputs, K.SpatialMeanGradAttrs>(({ inputs, backend, attrs }) => {
    const { dy, x } = inputs;
    const v = rowView(x);
    const dx = allocate(sizeOf(x.shape)); // rows before fromRow keep their zeros
    const fromRow = attrs.fromRow ?? 0;
    a.spatialMeanGrad({ dy: values(backend, dy, K.SpatialMeanGrad, 'dy'), ...v, dx, fromRow });
    return backend.makeTensorInfo(x.shape, 'float32', dx);
  });

/** Every fused kernel of the contract, by name. */
export function vbnKernels(a: NativeAddon): Record<K.FusedKernelName, KernelFunc> {
  return {
    [K.VbnStats]: vbnStats(a),
    [K.VbnStatsGrad]: vbnStatsGrad(a),
    [K.VbnNormalize]: vbnNormalize(a),
    [K.VbnNormalizeGrad]: vbnNormalizeGrad(a),
    [K.VbnLayer]: vbnLayer(a),
    [K.VbnLayerGrad]: vbnLayerGrad(a),
    [K.VbnLayerPool]: vbnLayerPool(a),
    [K.VbnLayerLeanGrad]: vbnLayerLeanGrad(a),
    [K.SpatialMean]: spatialMean(a),
    [K.SpatialMeanGrad]: spatialMeanGrad(a),
  };
}
