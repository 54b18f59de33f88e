import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon-spec.js';
import { allocateOutput } from './memory.js';
import { f32, fallback, sizeOf, type KernelArgs, type KernelFunc } from './kernel-util.js';

/**
 * TensorFlow.js kernels the engine runs in place of the cpu backend's: convolutions and matrix
 * products by oneDNN (or the engine's Winograd), large same-shape sums by an OpenMP loop. Each
 * falls back to the cpu kernel for what the engine does not cover (NCHW, other dtypes, PReLU,
 * general broadcasting).
 */
type Info = tf.TensorInfo;

/** strides, pads and dilations, each `[height, width]`. */
function convGeometry(info: tf.backend_util.Conv2DInfo) {
  const p = info.padInfo;
  return {
    strides: [info.strideHeight, info.strideWidth],
    padL: [p.top, p.left],
    padR: [p.bottom, p.right],
    dilations: [info.dilationHeight, info.dilationWidth],
  };
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 };

function conv2d(a: NativeAddon): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, Info>;
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
    const out = allocateOutput(sizeOf(info.outShape));
    const [xShape, wShape, outShape] = [x.shape, filter.shape, info.outShape];
    const activationCode = ACTIVATIONS[activation];
    const geometry = convGeometry(info);
    a.conv2d({
      x: xv,
      xShape,
      w: wv,
      wShape,
      out,
      outShape,
      ...geometry,
      bias: bv,
      activation: activationCode,
    });
    return backend.makeTensorInfo(info.outShape, 'float32', out);
  };
}

const conv2dBackpropInput =
  (a: NativeAddon): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as Record<string, Info>;
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
    const dx = allocateOutput(sizeOf(inputShape));
    const shapes = { dyShape: dy.shape, wShape: filter.shape, dxShape: inputShape };
    a.conv2dBackpropInput({ dy: dyv, w: wv, dx, ...shapes, ...convGeometry(info) });
    return backend.makeTensorInfo(inputShape, 'float32', dx);
  };

const conv2dBackpropFilter =
  (a: NativeAddon): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Record<string, Info>;
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
    const dw = new Float32Array(sizeOf(filterShape));
    const shapes = { xShape: x.shape, dyShape: dy.shape, dwShape: filterShape };
    a.conv2dBackpropFilter({ x: xv, dy: dyv, dw, ...shapes, ...convGeometry(info) });
    return backend.makeTensorInfo(filterShape, 'float32', dw);
  };

/** BatchMatMul / _FusedMatMul: batch dims collapsed, broadcast only as 1 against n. */
function matmul(a: NativeAddon, { inputs, backend, attrs }: KernelArgs, name: string) {
  const { a: A, b: B, bias, preluActivationWeights } = inputs as Record<string, Info>;
  const transA = Boolean(attrs.transposeA);
  const transB = Boolean(attrs.transposeB);
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  const av = f32(backend, A);
  const bv = f32(backend, B);
  const ra = A.shape.length;
  const rb = B.shape.length;
  const batchA = sizeOf(A.shape.slice(0, -2));
  const batchB = sizeOf(B.shape.slice(0, -2));
  const m = transA ? A.shape[ra - 1] : A.shape[ra - 2];
  const k = transA ? A.shape[ra - 2] : A.shape[ra - 1];
  const n = transB ? B.shape[rb - 2] : B.shape[rb - 1];
  const biasValues = bias ? f32(backend, bias) : null;
  const sameBatch = A.shape.slice(0, -2).join(',') === B.shape.slice(0, -2).join(',');
  const ok =
    av &&
    bv &&
    (sameBatch || batchA === 1 || batchB === 1) &&
    !preluActivationWeights &&
    (activation === 'linear' || activation === 'relu') &&
    (!bias || (biasValues && bias.shape.length === 1 && bias.shape[0] === n));
  if (!ok) return fallback(name)({ inputs, backend, attrs });
  const outBatch = (batchA >= batchB ? A : B).shape.slice(0, -2);
  const outShape = [...outBatch, m, n];
  const out = allocateOutput(sizeOf(outShape));
  const relu = activation === 'relu' ? 1 : 0;
  a.matmul({
    a: av,
    batchA,
    b: bv,
    batchB,
    out,
    m,
    k,
    n,
    transA,
    transB,
    bias: biasValues,
    activation: relu,
  });
  return backend.makeTensorInfo(outShape, 'float32', out);
}

/** The engine's replacements of cpu kernels, by kernel name. */
export function onednnKernels(a: NativeAddon): Record<string, KernelFunc> {
  const conv = conv2d(a);
  return {
    Conv2D: conv,
    FusedConv2D: conv,
    Conv2DBackpropInput: conv2dBackpropInput(a),
    Conv2DBackpropFilter: conv2dBackpropFilter(a),
    BatchMatMul: (args) => matmul(a, args, 'BatchMatMul'),
    _FusedMatMul: (args) => matmul(a, args, '_FusedMatMul'),
  };
}
