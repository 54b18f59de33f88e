import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { registerFusedGradients } from './fused-ops.js';

/**
 * The `native` backend: TensorFlow.js' cpu backend (same tensor storage: typed arrays) with the
 * hot kernels replaced by oneDNN (convolutions, matrix products) and fused VBN kernels, through a
 * Node-API addon. Tensor data goes to C++ without copies; outputs are allocated here once per call.
 */
export interface NativeAddon {
  setThreads(n: number): number;
  info(): { onednn: string; threads: number };
  conv2d(...args: unknown[]): void;
  conv2dBackpropInput(...args: unknown[]): void;
  conv2dBackpropFilter(...args: unknown[]): void;
  matmul(...args: unknown[]): void;
  vbnStats(...args: unknown[]): void;
  vbnStatsGrad(...args: unknown[]): void;
  vbnNormalize(...args: unknown[]): void;
  vbnNormalizeGrad(...args: unknown[]): void;
  spatialMean(...args: unknown[]): void;
  spatialMeanGrad(...args: unknown[]): void;
  add(...args: unknown[]): void;
  keepFreedMemory(): boolean;
}

const ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/vbn_native.node', import.meta.url),
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
class NativeBackend extends MathBackendCPU {}

const f32 = (backend: MathBackendCPU, t: tf.TensorInfo): Values | null => {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
};
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

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

function convArgs(info: tf.backend_util.Conv2DInfo) {
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
    const out = new Float32Array(sizeOf(info.outShape));
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
      const out = new Float32Array(sizeOf(inputShape));
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
      const c = x.shape[x.shape.length - 1];
      const spatial = sizeOf(x.shape) / (x.shape[0] * c);
      const rows = (attrs.rows as number | undefined) ?? x.shape[0];
      const hi = new Float32Array(c);
      const lo = new Float32Array(c);
      const v = new Float32Array(c);
      a.vbnStats(f32(backend, x), rows, spatial, c, hi, lo, v);
      return [hi, lo, v].map((t) => backend.makeTensorInfo([c], 'float32', t));
    },
    VbnStatsGrad: ({ inputs, backend, attrs }) => {
      const { x, hi, lo, dMean, dVar } = inputs as Record<string, tf.TensorInfo>;
      const c = x.shape[x.shape.length - 1];
      const spatial = sizeOf(x.shape) / (x.shape[0] * c);
      const rows = (attrs.rows as number | undefined) ?? x.shape[0];
      const dx = new Float32Array(sizeOf(x.shape)); // rows beyond `rows` keep their zeros
      a.vbnStatsGrad(
        f32(backend, x),
        rows,
        spatial,
        c,
        f32(backend, hi),
        f32(backend, lo),
        f32(backend, dMean),
        f32(backend, dVar),
        dx,
      );
      return backend.makeTensorInfo(x.shape, 'float32', dx);
    },
    VbnNormalize: ({ inputs, backend, attrs }) => {
      const { hi, lo, variance } = inputs as Record<string, tf.TensorInfo>;
      const [h, l, v] = [hi, lo, variance].map((t) => f32(backend, t)!);
      return normalize(a, backend, inputs, attrs, h, l, v);
    },
    VbnNormalizeGrad: ({ inputs, backend, attrs }) => {
      const g = normalizeGrad(a, backend, inputs, attrs, 0);
      return [g.dx, g.dMean, g.dVar, g.dGamma, g.dBeta];
    },
    // Statistics of the first `statsRows` rows and normalization of every row, in one op.
    VbnLayer: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const c = x.shape[x.shape.length - 1];
      const spatial = sizeOf(x.shape) / (x.shape[0] * c);
      const [hi, lo, v] = [0, 0, 0].map(() => new Float32Array(c));
      a.vbnStats(f32(backend, x), attrs.statsRows as number, spatial, c, hi, lo, v);
      const [out, rowStats] = normalize(a, backend, inputs, attrs, hi, lo, v);
      return [out, rowStats, ...[hi, lo, v].map((t) => backend.makeTensorInfo([c], 'float32', t))];
    },
    VbnLayerGrad: ({ inputs, backend, attrs }) => {
      // With stopReferenceGradient no gradient goes through the statistics: statsRows 0.
      const g = normalizeGrad(
        a,
        backend,
        inputs,
        attrs,
        attrs.stop ? 0 : (attrs.statsRows as number),
      );
      return [g.dx, g.dGamma, g.dBeta];
    },
    SpatialMean: ({ inputs, backend, attrs }) => {
      const { x } = inputs as Record<string, tf.TensorInfo>;
      const c = x.shape[x.shape.length - 1];
      const rows = x.shape[0];
      const from = (attrs.fromRow as number | undefined) ?? 0;
      const out = new Float32Array((rows - from) * c);
      a.spatialMean(f32(backend, x), rows, sizeOf(x.shape) / (rows * c), c, out, from);
      return backend.makeTensorInfo([rows - from, c], 'float32', out);
    },
    SpatialMeanGrad: ({ inputs, backend, attrs }) => {
      const { dy, x } = inputs as Record<string, tf.TensorInfo>;
      const c = x.shape[x.shape.length - 1];
      const rows = x.shape[0];
      const dx = new Float32Array(sizeOf(x.shape)); // rows before fromRow keep their zeros
      a.spatialMeanGrad(
        f32(backend, dy),
        rows,
        sizeOf(x.shape) / (rows * c),
        c,
        dx,
        (attrs.fromRow as number | undefined) ?? 0,
      );
      return backend.makeTensorInfo(x.shape, 'float32', dx);
    },
    Add: ({ inputs, backend, attrs }) => {
      const { a: A, b: B } = inputs as Record<string, tf.TensorInfo>;
      const av = f32(backend, A);
      const bv = f32(backend, B);
      const n = sizeOf(A.shape);
      // Large same-shape float32 sums (gradient accumulation); everything else stays on cpu.
      if (!av || !bv || n < 1 << 16 || A.shape.join(',') !== B.shape.join(',')) {
        return fallback('Add')({ inputs, backend, attrs });
      }
      const out = new Float32Array(n);
      a.add(av, bv, out, n);
      return backend.makeTensorInfo(A.shape, 'float32', out);
    },
  };
}

/** VBN normalization (+ ReLU) of x against hi/lo/variance, shared by VbnNormalize and VbnLayer. */
function normalize(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  hi: Float32Array,
  lo: Float32Array,
  variance: Float32Array,
): [tf.TensorInfo, tf.TensorInfo] {
  const { x, gamma, beta, rowWeights } = inputs as Record<string, tf.TensorInfo>;
  const c = x.shape[x.shape.length - 1];
  const rows = x.shape[0];
  const out = new Float32Array(sizeOf(x.shape));
  const rowStats = new Float32Array(rows * 2 * c);
  a.vbnNormalize(
    f32(backend, x),
    rows,
    sizeOf(x.shape) / (rows * c),
    c,
    hi,
    lo,
    variance,
    f32(backend, gamma),
    f32(backend, beta),
    f32(backend, rowWeights),
    attrs.epsilon,
    attrs.relu,
    out,
    rowStats,
  );
  return [
    backend.makeTensorInfo(x.shape, 'float32', out),
    backend.makeTensorInfo([rows, 2, c], 'float32', rowStats),
  ];
}

/**
 * The backward pass of VBN normalization (+ ReLU), shared by VbnNormalizeGrad and VbnLayerGrad.
 * statsRows > 0: the statistics came from the first statsRows rows of x (VbnLayer), and their own
 * gradient, with dMeanExt/dVarExt from other consumers, is added to those rows' dx.
 */
function normalizeGrad(
  a: NativeAddon,
  backend: MathBackendCPU,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  statsRows: number,
) {
  const { dy, x, out, hi, lo, gamma, rowWeights, rowStats, dMeanExt, dVarExt } = inputs as Record<
    string,
    tf.TensorInfo
  >;
  const c = x.shape[x.shape.length - 1];
  const rows = x.shape[0];
  const dx = new Float32Array(sizeOf(x.shape));
  const [dMean, dVar, dGamma, dBeta] = [0, 0, 0, 0].map(() => new Float32Array(c));
  a.vbnNormalizeGrad(
    f32(backend, dy),
    f32(backend, x),
    f32(backend, out),
    rows,
    sizeOf(x.shape) / (rows * c),
    c,
    f32(backend, hi),
    f32(backend, lo),
    f32(backend, gamma),
    f32(backend, rowWeights),
    f32(backend, rowStats),
    attrs.relu,
    dx,
    dMean,
    dVar,
    dGamma,
    dBeta,
    statsRows,
    dMeanExt ? f32(backend, dMeanExt) : null,
    dVarExt ? f32(backend, dVarExt) : null,
  );
  const perChannel = (t: Float32Array) => backend.makeTensorInfo([c], 'float32', t);
  return {
    dx: backend.makeTensorInfo(x.shape, 'float32', dx),
    dMean: perChannel(dMean),
    dVar: perChannel(dVar),
    dGamma: perChannel(dGamma),
    dBeta: perChannel(dBeta),
  };
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
  const out = new Float32Array(sizeOf(outShape));
  a.matmul(av, batchA, bv, batchB, out, m, k, n, ta, tb, bvals, activation === 'relu' ? 1 : 0);
  return backend.makeTensorInfo(outShape, 'float32', out);
}

let registered = false;

/**
 * Registers the `native` backend; null when ready, else the reason it cannot be used.
 * `threads` sets oneDNN/OpenMP threads (default: OMP_NUM_THREADS or all cores).
 */
export async function registerNativeBackend(threads?: number): Promise<string | null> {
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
  for (const [kernelName, kernelFunc] of Object.entries(kernels(a))) {
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

/** Version and thread count of the loaded engine, or null. */
export function nativeInfo(): { onednn: string; threads: number } | null {
  return loadAddon()?.info() ?? null;
}
