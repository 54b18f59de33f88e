import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { VbnError, shapeString } from '../../errors.js';
import { registerFusedGradients } from '../fused-ops.js';
import { LOOP_KERNELS } from '../loop-kernels.js';
import { checkIntegerIn } from '../../vbn/validate.js';
import { elementwiseKernels, type ElementwiseAddon } from './elementwise-kernels.js';

/**
 * The `native` backend: TensorFlow.js' cpu backend (same tensor storage: typed arrays) with the
 * hot kernels replaced by oneDNN (convolutions, matrix products) and fused VBN kernels, through a
 * Node-API addon. Tensor data goes to C++ without copies; outputs are allocated here once per call.
 */
type F32 = Float32Array;
type Dims = readonly number[];
/** `[strides, padL, padR, dilations]`, each `[height, width]`. */
type ConvAttrs = [Dims, Dims, Dims, Dims];
/** x `[B, ..., C]` seen as `[rows = B, spatial, channels = C]`. */
type RowView = [rows: number, spatial: number, channels: number];
/** The reference mean as a float pair hi + lo, each `[C]`. */
type MeanPair = [meanHi: F32, meanLo: F32];
/** What vbnNormalize and vbnNormalizePool both read after x, the row view and the mean pair. */
type NormalizeParams = [
  varR: F32,
  gamma: F32 | null,
  beta: F32 | null,
  rowWeights: F32,
  epsilon: number,
];
export interface NativeAddon extends ElementwiseAddon {
  setThreads(n: number): number;
  info(): { onednn: string; threads: number; cachedPrimitives: number };
  keepFreedMemory(): boolean;
  /**
   * Shapes NHWC / HWIO; activation 0 linear, 1 relu, 2 relu6; algorithm 0 (or left out) automatic,
   * 1 oneDNN direct, 2 Winograd F(2x2, 3x3) (3x3 filters, stride 1, dilation 1 only).
   */
  conv2d(
    x: F32,
    xShape: Dims,
    w: F32,
    wShape: Dims,
    out: F32,
    outShape: Dims,
    ...rest: [...ConvAttrs, bias: F32 | null, activation: number, algorithm?: number]
  ): void;
  /** algorithm as in conv2d. */
  conv2dBackpropInput(
    dy: F32,
    dyShape: Dims,
    w: F32,
    wShape: Dims,
    dx: F32,
    dxShape: Dims,
    ...attrs: [...ConvAttrs, algorithm?: number]
  ): void;
  /** algorithm as in conv2d. */
  conv2dBackpropFilter(
    x: F32,
    xShape: Dims,
    dy: F32,
    dyShape: Dims,
    dw: F32,
    dwShape: Dims,
    ...attrs: [...ConvAttrs, algorithm?: number]
  ): void;
  /** a [batchA, m, k] (or [batchA, k, m] transposed) times b [batchB, k, n]; activation 0 or 1 (relu). */
  matmul(
    a: F32,
    batchA: number,
    b: F32,
    batchB: number,
    out: F32,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    bias: F32 | null,
    activation: number,
  ): void;
  /** x [B, S, C]: statistics of its first `rows` rows. */
  vbnStats(x: F32, ...rest: [...RowView, ...MeanPair, variance: F32]): void;
  vbnStatsGrad(x: F32, ...rest: [...RowView, ...MeanPair, dMean: F32, dVar: F32, dx: F32]): void;
  vbnNormalize(
    x: F32,
    ...rest: [...RowView, ...MeanPair, ...NormalizeParams, relu: boolean, out: F32, rowStats: F32]
  ): void;
  /** The mean over S of ReLU(vbnNormalize(x)) for rows fromRow..: out [rows - fromRow, C]. */
  vbnNormalizePool(
    x: F32,
    ...rest: [...RowView, ...MeanPair, ...NormalizeParams, out: F32, fromRow: number]
  ): void;
  /** out null: the ReLU mask recomputed from x (needs varR, beta, epsilon; rowStats may be null). */
  vbnNormalizeGrad(
    dy: F32,
    x: F32,
    out: F32 | null,
    ...rest: [
      ...RowView,
      ...MeanPair,
      gamma: F32 | null,
      rowWeights: F32,
      rowStats: F32 | null,
      relu: boolean,
      dx: F32,
      dMean: F32,
      dVarR: F32,
      dGamma: F32,
      dBeta: F32,
      statsRows: number,
      dMeanExt: F32 | null,
      dVarExt: F32 | null,
      /** dy is `[rows - pooledFrom, C]`, the gradient of the spatial mean of rows pooledFrom.. */
      pooledFrom?: number,
      varR?: F32,
      beta?: F32 | null,
      epsilon?: number,
    ]
  ): void;
  spatialMean(x: F32, ...rest: [...RowView, out: F32, fromRow: number]): void;
  spatialMeanGrad(dy: F32, ...rest: [...RowView, dx: F32, fromRow: number]): void;
  add(a: F32, b: F32, out: F32, n: number): void;
  /** `rounds` rounds of 10 vector FMA chains per thread. */
  fmaPeak(rounds: number): FmaCeiling & { seconds: number };
}

/** The fp32 fused multiply-add throughput of this machine at a thread count. */
export interface FmaCeiling {
  gflops: number;
  threads: number;
  /** The vector instructions measured, e.g. `AVX2 FMA`. */
  isa: string;
}

const ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/vbn_native.node', import.meta.url),
);

let addon: NativeAddon | null = null;
let loadProblem: string | null = null;

/** Loads the addon once; null and a reason when it cannot. */
export function loadAddon(): NativeAddon | null {
  if (addon || loadProblem) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadProblem =
      'the oneDNN addon is not built (npm run setup builds it where libdnnl-dev is installed)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    loadProblem = `the oneDNN addon failed to load (${(e as Error).message.split('\n')[0]})`;
  }
  return addon;
}

type Values = Float32Array;
/** Allocations from this size on may first collect the arrays disposed since the last collection. */
const LARGE_BYTES = 32 * 2 ** 20;

/** V8's full collection (`--expose-gc` set at run time), or null where that is refused. */
const collectGarbage: (() => void) | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
})();

/**
 * Bytes of float32 tensor data disposed since V8's last collection run from here. A disposed
 * tensor's Float32Array goes back to malloc only when V8 collects it, and V8 schedules
 * collections by its own heap, where such an array is a few bytes: at the seed scale a training
 * step frees several GB, and the next large tensors were allocated beside the dead ones (the
 * peak RSS 2-3 GB above the live tensors). So a large allocation that the dead arrays could hold
 * runs a collection first (milliseconds: the JS heap is small), and malloc reuses their memory.
 */
let disposedBytes = 0;

/** A zeroed Float32Array of n elements for a kernel's output. */
function allocate(n: number): Float32Array {
  const bytes = 4 * n;
  if (collectGarbage && bytes >= LARGE_BYTES && disposedBytes >= bytes) {
    disposedBytes = 0;
    collectGarbage();
    collectGarbage(); // the first one's array buffers are freed (swept) when the second starts
  }
  return new Float32Array(n);
}

class NativeBackend extends MathBackendCPU {
  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const removed = super.disposeData(dataId, force) && !this.data.has(dataId);
    if (removed && values instanceof Float32Array) disposedBytes += values.byteLength;
    return removed;
  }
}

const f32 = (backend: MathBackendCPU, t: tf.TensorInfo): Values | null => {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
};
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The float32 values of a fused kernel's input; a VbnError naming the kernel otherwise. */
function values(backend: MathBackendCPU, t: tf.TensorInfo, kernel: string, name: string): Values {
  const v = f32(backend, t);
  if (!v) {
    throw new VbnError(
      `${kernel}: ${name} must be float32 but has dtype ${t.dtype} (shape ${shapeString(t.shape)})`,
    );
  }
  return v;
}

type KernelFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: MathBackendCPU;
  attrs: tf.NamedAttrMap;
}) => tf.TensorInfo | tf.TensorInfo[];

function fallback(name: string): KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`cpu kernel ${name} missing`);
  return k.kernelFunc as unknown as KernelFunc;
}

function convArgs(info: tf.backend_util.Conv2DInfo): ConvAttrs {
  const p = info.padInfo;
  return [
    [info.strideHeight, info.strideWidth],
    [p.top, p.left],
    [p.bottom, p.right],
    [info.dilationHeight, info.dilationWidth],
  ];
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

function kernels(a: NativeAddon): Record<string, KernelFunc> {
  const conv: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo>;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const name = attrs.activation === undefined ? 'Conv2D' : 'FusedConv2D';
    const xv = f32(backend, x);
    const wv = f32(backend, filter);
    const bv = bias ? f32(backend, bias) : null;
    const native =
      attrs.dataFormat !== 'NCHW' &&
      xv &&
      wv &&
      (!bias || (bv && bias.shape.length === 1 && bias.shape[0] === filter.shape[3])) &&
      !preluActivationWeights &&
      activation in ACTIVATIONS;
    if (!native) return fallback(name)({ inputs, backend, attrs });
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides as number,
      attrs.dilations as number,
      attrs.pad as 'valid',
      attrs.dimRoundingMode as 'floor' | undefined,
      false,
      'channelsLast',
    );
    const out = allocate(sizeOf(info.outShape));
    a.conv2d(
      xv,
      x.shape,
      wv,
      filter.shape,
      out,
      info.outShape,
      ...convArgs(info),
      bv,
      ACTIVATIONS[activation],
    );
    return backend.makeTensorInfo(info.outShape, 'float32', out);
  };
  return {
    Conv2D: conv,
    FusedConv2D: conv,
    Conv2DBackpropInput: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
      const dyv = f32(backend, dy);
      const wv = f32(backend, filter);
      if (attrs.dataFormat === 'NCHW' || !dyv || !wv)
        return fallback('Conv2DBackpropInput')({ inputs, backend, attrs });
      const inputShape = attrs.inputShape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        attrs.strides as number,
        1,
        attrs.pad as 'valid',
        attrs.dimRoundingMode as 'floor' | undefined,
      );
      const out = allocate(sizeOf(inputShape));
      a.conv2dBackpropInput(dyv, dy.shape, wv, filter.shape, out, inputShape, ...convArgs(info));
      return backend.makeTensorInfo(inputShape, 'float32', out);
    },
    Conv2DBackpropFilter: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as Record<string, tf.TensorInfo>;
      const xv = f32(backend, x);
      const dyv = f32(backend, dy);
      if (attrs.dataFormat === 'NCHW' || !xv || !dyv)
        return fallback('Conv2DBackpropFilter')({ inputs, backend, attrs });
      const filterShape = attrs.filterShape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        attrs.strides as number,
        1,
        attrs.pad as 'valid',
        attrs.dimRoundingMode as 'floor' | undefined,
      );
      const out = new Float32Array(sizeOf(filterShape));
      a.conv2dBackpropFilter(xv, x.shape, dyv, dy.shape, out, filterShape, ...convArgs(info));
      return backend.makeTensorInfo(filterShape, 'float32', out);
    },
    BatchMatMul: (args) => matmul(a, args, 'BatchMatMul'),
    _FusedMatMul: (args) => matmul(a, args, '_FusedMatMul'),
    VbnStats: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const v = rowView(x);
      const rows = (attrs.rows as number | undefined) ?? v.rows;
      const { hi, lo, variance } = referenceStats(a, values(backend, x, 'VbnStats', 'x'), v, rows);
      return [hi, lo, variance].map((t) => backend.makeTensorInfo([v.channels], 'float32', t));
    },
    VbnStatsGrad: ({ inputs, backend, attrs }) => {
      const { x, hi, lo, dMean, dVar } = inputs as Record<string, tf.TensorInfo>;
      const get = (t: tf.TensorInfo, name: string) => values(backend, t, 'VbnStatsGrad', name);
      const v = rowView(x);
      const rows = (attrs.rows as number | undefined) ?? v.rows;
      const dx = allocate(sizeOf(x.shape)); // rows beyond `rows` keep their zeros
      a.vbnStatsGrad(
        get(x, 'x'),
        rows,
        v.spatial,
        v.channels,
        get(hi, 'hi'),
        get(lo, 'lo'),
        get(dMean, 'dMean'),
        get(dVar, 'dVar'),
        dx,
      );
      return backend.makeTensorInfo(x.shape, 'float32', dx);
    },
    VbnNormalize: ({ inputs, backend, attrs }) => {
      const { hi, lo, variance } = inputs as Record<string, tf.TensorInfo>;
      const get = (t: tf.TensorInfo, name: string) => values(backend, t, 'VbnNormalize', name);
      const stats = { hi: get(hi, 'hi'), lo: get(lo, 'lo'), variance: get(variance, 'variance') };
      return normalize(a, backend, inputs, attrs, stats, 'VbnNormalize');
    },
    VbnNormalizeGrad: ({ inputs, backend, attrs }) => {
      const g = normalizeGrad(a, backend, inputs, attrs, 0, 'VbnNormalizeGrad');
      return gradTensors(backend, (inputs as Record<string, tf.TensorInfo>).x, g, [
        'dMean',
        'dVar',
        'dGamma',
        'dBeta',
      ]);
    },
    // Statistics of the first `statsRows` rows and normalization of every row, in one op.
    VbnLayer: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const v = rowView(x);
      const xv = values(backend, x, 'VbnLayer', 'x');
      const stats = referenceStats(a, xv, v, attrs.statsRows as number);
      const [out, rowStats] = normalize(a, backend, inputs, attrs, stats, 'VbnLayer');
      const { hi, lo, variance } = stats;
      const vectors = [hi, lo, variance].map((t) =>
        backend.makeTensorInfo([v.channels], 'float32', t),
      );
      return [out, rowStats, ...vectors];
    },
    VbnLayerGrad: ({ inputs, backend, attrs }) => {
      // With stopReferenceGradient no gradient goes through the statistics: statsRows 0.
      const statsRows = attrs.stop ? 0 : (attrs.statsRows as number);
      const g = normalizeGrad(a, backend, inputs, attrs, statsRows, 'VbnLayerGrad');
      return gradTensors(backend, (inputs as Record<string, tf.TensorInfo>).x, g, [
        'dGamma',
        'dBeta',
      ]);
    },
    // SpatialMean(VbnLayer(x), fromRow) without storing the normalized rows: [B - fromRow, C].
    VbnLayerPool: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta, rowWeights } = inputs as Record<string, tf.TensorInfo>;
      const get = (t: tf.TensorInfo, name: string) => values(backend, t, 'VbnLayerPool', name);
      const v = rowView(x);
      const from = attrs.fromRow as number;
      const xv = get(x, 'x');
      const { hi, lo, variance } = referenceStats(a, xv, v, attrs.statsRows as number);
      const out = new Float32Array(Math.max(0, (v.rows - from) * v.channels));
      a.vbnNormalizePool(
        xv,
        v.rows,
        v.spatial,
        v.channels,
        hi,
        lo,
        variance,
        get(gamma, 'gamma'),
        get(beta, 'beta'),
        get(rowWeights, 'rowWeights'),
        attrs.epsilon as number,
        out,
        from,
      );
      return backend.makeTensorInfo([v.rows - from, v.channels], 'float32', out);
    },
    // VbnLayerGrad without the layer's output: statistics and ReLU mask are recomputed from x (the
    // forward's bits). dy is the output's gradient, or with attrs.fromRow the pooled gradient
    // [B - fromRow, C] of VbnLayerPool (no [B, S, C] gradient stored). With attrs.inPlace and x
    // held by no other tensor, dx is written over x's values (each element read before it is
    // written) and returned as x's data: the caller gives x up.
    VbnLayerLeanGrad: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const v = rowView(x);
      const xv = values(backend, x, 'VbnLayerLeanGrad', 'x');
      const stats = referenceStats(a, xv, v, attrs.statsRows as number);
      const inPlace = attrs.inPlace === true && backend.data.get(x.dataId).refCount === 1;
      const dx = inPlace ? xv : allocate(sizeOf(x.shape));
      const statsRows = attrs.stop ? 0 : (attrs.statsRows as number);
      const sources = { ...stats, dx, pooledFrom: attrs.fromRow as number | undefined };
      const g = normalizeGrad(a, backend, inputs, attrs, statsRows, 'VbnLayerLeanGrad', sources);
      if (!inPlace) return gradTensors(backend, x, g, ['dGamma', 'dBeta']);
      backend.incRef(x.dataId); // dx is x's data, now held by the gradient too
      const dxInfo = { dataId: x.dataId, shape: x.shape, dtype: 'float32' as const };
      return gradTensors(backend, x, g, ['dGamma', 'dBeta'], dxInfo);
    },
    SpatialMean: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const v = rowView(x);
      const from = (attrs.fromRow as number | undefined) ?? 0;
      const out = new Float32Array(Math.max(0, (v.rows - from) * v.channels));
      const xv = values(backend, x, 'SpatialMean', 'x');
      a.spatialMean(xv, v.rows, v.spatial, v.channels, out, from);
      return backend.makeTensorInfo([v.rows - from, v.channels], 'float32', out);
    },
    SpatialMeanGrad: ({ inputs, backend, attrs }) => {
      const { dy, x } = inputs as Record<string, tf.TensorInfo>;
      const v = rowView(x);
      const dx = allocate(sizeOf(x.shape)); // rows before fromRow keep their zeros
      const from = (attrs.fromRow as number | undefined) ?? 0;
      const dyv = values(backend, dy, 'SpatialMeanGrad', 'dy');
      a.spatialMeanGrad(dyv, v.rows, v.spatial, v.channels, dx, from);
      return backend.makeTensorInfo(x.shape, 'float32', dx);
    },
    ...loopKernels(),
    Add: ({ inputs, backend, attrs }) => {
      const { a: A, b: B } = inputs as Record<string, tf.TensorInfo>;
      const av = f32(backend, A);
      const bv = f32(backend, B);
      const n = sizeOf(A.shape);
      // Large same-shape float32 sums (gradient accumulation) in the engine; the rest as Add's loop.
      if (!av || !bv || n < 1 << 16 || A.shape.join(',') !== B.shape.join(',')) {
        return orFallback('Add', LOOP_KERNELS.Add)({ inputs, backend, attrs });
      }
      const out = allocate(n);
      a.add(av, bv, out, n);
      return backend.makeTensorInfo(A.shape, 'float32', out);
    },
  };
}

/** A loop kernel, or the cpu kernel where it returns null. */
function orFallback(name: string, loop: (typeof LOOP_KERNELS)[string]): KernelFunc {
  return (args) => loop(args) ?? fallback(name)(args);
}

function loopKernels(): Record<string, KernelFunc> {
  return Object.fromEntries(
    Object.entries(LOOP_KERNELS).map(([name, loop]) => [name, orFallback(name, loop)]),
  );
}

/** x `[B, ..., C]` seen as `[rows = B, spatial, channels = C]` (the addon checks the counts). */
function rowView(x: tf.TensorInfo): { rows: number; spatial: number; channels: number } {
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape[0];
  return { rows, spatial: sizeOf(x.shape) / (rows * channels), channels };
}

const perChannel = (count: number, channels: number) =>
  Array.from({ length: count }, () => new Float32Array(Math.max(0, channels || 0)));

interface Stats {
  hi: Float32Array;
  lo: Float32Array;
  variance: Float32Array;
}

/** The statistics of the first `rows` rows of x's values, seen as `[B, S, C]` by `v`. */
function referenceStats(
  a: NativeAddon,
  xv: Float32Array,
  v: { spatial: number; channels: number },
  rows: number,
): Stats {
  const [hi, lo, variance] = perChannel(3, v.channels);
  a.vbnStats(xv, rows, v.spatial, v.channels, hi, lo, variance);
  return { hi, lo, variance };
}

/** VBN normalization (+ ReLU) of x against hi/lo/variance, shared by VbnNormalize and VbnLayer. */
function normalize(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  stats: Stats,
  kernel: string,
): [tf.TensorInfo, tf.TensorInfo] {
  const { x, gamma, beta, rowWeights } = inputs as Record<string, tf.TensorInfo>;
  const get = (t: tf.TensorInfo, name: string) => values(backend, t, kernel, name);
  const v = rowView(x);
  const out = allocate(sizeOf(x.shape));
  const rowStats = new Float32Array(Math.max(0, v.rows * 2 * v.channels));
  a.vbnNormalize(
    get(x, 'x'),
    v.rows,
    v.spatial,
    v.channels,
    stats.hi,
    stats.lo,
    stats.variance,
    get(gamma, 'gamma'),
    get(beta, 'beta'),
    get(rowWeights, 'rowWeights'),
    attrs.epsilon as number,
    attrs.relu as boolean,
    out,
    rowStats,
  );
  return [
    backend.makeTensorInfo(x.shape, 'float32', out),
    backend.makeTensorInfo([v.rows, 2, v.channels], 'float32', rowStats),
  ];
}

/**
 * VbnLayerLeanGrad's own buffers in place of the layer's output and statistics tensors: no `out`
 * and no rowStats (the ReLU mask and per-row statistics are recomputed from x with the reference
 * statistics below and the kernel's beta and epsilon); dx may be x's own values.
 */
interface GradSources {
  hi: Float32Array;
  lo: Float32Array;
  variance: Float32Array;
  dx: Float32Array;
  /** dy is the pooled gradient `[B - pooledFrom, C]` of the spatial mean of rows pooledFrom.. */
  pooledFrom?: number;
}

/**
 * The backward pass of VBN normalization (+ ReLU), shared by VbnNormalizeGrad, VbnLayerGrad and
 * VbnLayerLeanGrad. statsRows > 0: the statistics came from the first statsRows rows of x
 * (VbnLayer), and their own gradient, with dMeanExt/dVarExt from other consumers, is added to
 * those rows' dx.
 */
function normalizeGrad(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  statsRows: number,
  kernel: string,
  sources?: GradSources,
) {
  const { dy, x, out, hi, lo, gamma, rowWeights, rowStats, dMeanExt, dVarExt } = inputs as Record<
    string,
    tf.TensorInfo
  >;
  const get = (t: tf.TensorInfo, name: string) => values(backend, t, kernel, name);
  const v = rowView(x);
  const dx = sources?.dx ?? allocate(sizeOf(x.shape));
  const [dMean, dVar, dGamma, dBeta] = perChannel(4, v.channels);
  a.vbnNormalizeGrad(
    get(dy, 'dy'),
    get(x, 'x'),
    sources ? null : get(out, 'out'),
    v.rows,
    v.spatial,
    v.channels,
    sources?.hi ?? get(hi, 'hi'),
    sources?.lo ?? get(lo, 'lo'),
    get(gamma, 'gamma'),
    get(rowWeights, 'rowWeights'),
    sources ? null : get(rowStats, 'rowStats'),
    attrs.relu as boolean,
    dx,
    dMean,
    dVar,
    dGamma,
    dBeta,
    statsRows,
    dMeanExt ? get(dMeanExt, 'dMeanExt') : null,
    dVarExt ? get(dVarExt, 'dVarExt') : null,
    sources?.pooledFrom,
    sources?.variance,
    sources ? get(inputs.beta as tf.TensorInfo, 'beta') : undefined,
    sources ? (attrs.epsilon as number) : undefined,
  );
  return { dx, dMean, dVar, dGamma, dBeta };
}

/** dx (x's shape; by default a tensor of g.dx), then the per-channel gradients named (each `[C]`). */
function gradTensors(
  backend: MathBackendCPU,
  x: tf.TensorInfo,
  g: Record<'dx' | 'dMean' | 'dVar' | 'dGamma' | 'dBeta', Float32Array>,
  names: ('dMean' | 'dVar' | 'dGamma' | 'dBeta')[],
  dx: tf.TensorInfo = backend.makeTensorInfo(x.shape, 'float32', g.dx),
): tf.TensorInfo[] {
  const channels = x.shape[x.shape.length - 1];
  return [dx, ...names.map((n) => backend.makeTensorInfo([channels], 'float32', g[n]))];
}

/** BatchMatMul / _FusedMatMul: batch dims collapsed, broadcast only as 1 against n. */
function matmul(
  a: NativeAddon,
  { inputs, backend, attrs }: Parameters<KernelFunc>[0],
  name: string,
) {
  const { a: A, b: B, bias, preluActivationWeights } = inputs as Record<string, tf.TensorInfo>;
  const ta = Boolean(attrs.transposeA);
  const tb = Boolean(attrs.transposeB);
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const av = f32(backend, A);
  const bv = f32(backend, B);
  const ra = A.shape.length;
  const rb = B.shape.length;
  const batchA = sizeOf(A.shape.slice(0, -2));
  const batchB = sizeOf(B.shape.slice(0, -2));
  const m = ta ? A.shape[ra - 1] : A.shape[ra - 2];
  const k = ta ? A.shape[ra - 2] : A.shape[ra - 1];
  const n = tb ? B.shape[rb - 2] : B.shape[rb - 1];
  const bvals = bias ? f32(backend, bias) : null;
  const sameBatch = A.shape.slice(0, -2).join(',') === B.shape.slice(0, -2).join(',');
  const ok =
    av &&
    bv &&
    (sameBatch || batchA === 1 || batchB === 1) &&
    !preluActivationWeights &&
    (activation === 'linear' || activation === 'relu') &&
    (!bias || (bvals && bias.shape.length === 1 && bias.shape[0] === n));
  if (!ok) return fallback(name)({ inputs, backend, attrs });
  const outBatch = (batchA >= batchB ? A : B).shape.slice(0, -2);
  const outShape = [...outBatch, m, n];
  const out = allocate(sizeOf(outShape));
  a.matmul(av, batchA, bv, batchB, out, m, k, n, ta, tb, bvals, activation === 'relu' ? 1 : 0);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

let registered = false;

/** The most OpenMP threads the engine takes (the addon refuses more). */
export const MAX_THREADS = 256;

/**
 * Registers the `native` backend; null when ready, else the reason it cannot be used.
 * `threads` sets oneDNN/OpenMP threads (default: OMP_NUM_THREADS or all cores).
 */
export async function registerNativeBackend(threads?: number): Promise<string | null> {
  if (threads !== undefined) {
    checkIntegerIn('useBackend', 'threads', threads, 1, MAX_THREADS, 'native engine threads');
  }
  const a = loadAddon();
  if (!a) return loadProblem;
  if (threads) a.setThreads(threads);
  if (registered) return null;
  // Large tensors are reused from malloc's heap instead of page-faulting afresh every step.
  a.keepFreedMemory();
  tf.registerBackend('native', () => new NativeBackend(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({ ...k, backendName: 'native' });
  }
  for (const [kernelName, kernelFunc] of Object.entries({
    ...kernels(a),
    ...elementwiseKernels(a, allocate),
  })) {
    if (tf.getKernel(kernelName, 'native')) tf.unregisterKernel(kernelName, 'native');
    tf.registerKernel({
      kernelName,
      backendName: 'native',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
  registerFusedGradients();
  registered = true;
  return null;
}

/**
 * This machine's fp32 FMA ceiling with `threads` threads, measured by the engine (-march=native):
 * the best of `runs` runs of about 0.05 s (other load on a shared machine only lowers a run).
 * Null without the engine. Leaves the engine at `threads` threads.
 */
export function measureFmaCeiling(threads: number, runs = 5): FmaCeiling | null {
  const a = loadAddon();
  if (!a) return null;
  a.setThreads(threads);
  let best = a.fmaPeak(2e7);
  for (let i = 1; i < runs; i++) {
    const r = a.fmaPeak(2e7);
    if (r.gflops > best.gflops) best = r;
  }
  return { gflops: best.gflops, threads: best.threads, isa: best.isa };
}

/** Version and thread count of the loaded engine, or null. */
export function nativeInfo(): { onednn: string; threads: number; cachedPrimitives: number } | null {
  return loadAddon()?.info() ?? null;
}
