import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * Plain typed-array loops for cpu kernels whose generic TensorFlow.js implementations cost far
 * more than the work: Slice and PadV2 compute an index-to-location array per element (timings in
 * docs/performance.md, "Per-op overhead"), and the binary
 * and unary element-wise kernels call a shared closure per element. Each returns null where it does not
 * apply (other dtypes, general broadcasting), and the caller falls back to the cpu kernel.
 * Results are bit-identical to the cpu kernels': the same float64 arithmetic rounded to float32.
 */

type Typed = Float32Array | Int32Array | Uint8Array;
type Kernel = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: MathBackendCPU;
  attrs: tf.NamedAttrMap;
}) => tf.TensorInfo | null;

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function typed(backend: MathBackendCPU, t: tf.TensorInfo): Typed | null {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array ? v : null;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** Runs of at least this many elements are copied by TypedArray.set (a memmove). */
const LONG_RUN = 64;

/**
 * Copies the box `size` starting at `begin` of `src` (shape `srcShape`) into the box of the same
 * size starting at `at` of `dst` (shape `dstShape`): the innermost dimension as a loop, the outer
 * ones by an odometer.
 */
function copyBox(
  src: Typed,
  srcShape: readonly number[],
  begin: readonly number[],
  dst: Typed,
  dstShape: readonly number[],
  at: readonly number[],
  size: readonly number[],
): void {
  if (size.length === 0) {
    dst[0] = src[0];
    return;
  }
  if (sizeOf(size) === 0) return;
  // Trailing dimensions the box spans whole in both arrays are one run of memory.
  let r = size.length;
  while (r > 1 && size[r - 1] === srcShape[r - 1] && size[r - 1] === dstShape[r - 1]) r--;
  const whole = sizeOf(size.slice(r));
  const ss = strides(srcShape.slice(0, r)).map((v) => v * whole);
  const ds = strides(dstShape.slice(0, r)).map((v) => v * whole);
  const inner = size[r - 1] * whole;
  const idx = new Array<number>(r - 1).fill(0);
  let s = begin.slice(0, r).reduce((acc, b, d) => acc + b * ss[d], 0);
  let o = at.slice(0, r).reduce((acc, b, d) => acc + b * ds[d], 0);
  for (;;) {
    if (inner >= LONG_RUN) dst.set(src.subarray(s, s + inner), o);
    else for (let j = 0; j < inner; j++) dst[o + j] = src[s + j];
    let d = r - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      s += ss[d];
      o += ds[d];
      if (idx[d] < size[d]) break;
      s -= ss[d] * size[d];
      o -= ds[d] * size[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * A Float32Array of n elements for an output, its values undefined (the backend's, which may
 * reuse memory): every kernel here writes each element of its output.
 */
export type Allocate = (n: number) => Float32Array;

function emptyLike(v: Typed, n: number, allocate: Allocate): Typed {
  if (v instanceof Float32Array) return allocate(n);
  return v instanceof Int32Array ? new Int32Array(n) : new Uint8Array(n);
}

const slice =
  (allocate: Allocate): Kernel =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const xv = typed(backend, x);
    if (!xv) return null;
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as tf.Tensor,
      attrs.begin as number[],
      attrs.size as number[],
    );
    tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
    const out = emptyLike(xv, sizeOf(size), allocate);
    copyBox(xv, x.shape, begin, out, size, new Array<number>(size.length).fill(0), size);
    return backend.makeTensorInfo(size, x.dtype, out);
  };

const padV2 =
  (allocate: Allocate): Kernel =>
  ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const xv = typed(backend, x);
    if (!xv) return null;
    const paddings = attrs.paddings as Array<[number, number]>;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const out = emptyLike(xv, sizeOf(outShape), allocate);
    out.fill(attrs.constantValue as number);
    const at = paddings.map((p) => p[0]);
    copyBox(xv, x.shape, new Array<number>(x.shape.length).fill(0), out, outShape, at, x.shape);
    return backend.makeTensorInfo(outShape, x.dtype, out);
  };

type BinaryName = 'Multiply' | 'Add' | 'Sub' | 'RealDiv' | 'Greater';

/**
 * out[i] = a[i * sa] op b[i * sb]: sa, sb are 1 for a full operand and 0 for a one-element one.
 * One loop per operation so that each stays monomorphic.
 */
function binaryLoop(
  name: BinaryName,
  a: Float32Array,
  sa: number,
  b: Float32Array,
  sb: number,
  out: Float32Array | Uint8Array,
): void {
  const n = out.length;
  switch (name) {
    case 'Multiply':
      for (let i = 0; i < n; i++) out[i] = a[i * sa] * b[i * sb];
      return;
    case 'Add':
      for (let i = 0; i < n; i++) out[i] = a[i * sa] + b[i * sb];
      return;
    case 'Sub':
      for (let i = 0; i < n; i++) out[i] = a[i * sa] - b[i * sb];
      return;
    case 'RealDiv':
      for (let i = 0; i < n; i++) out[i] = a[i * sa] / b[i * sb];
      return;
    case 'Greater':
      for (let i = 0; i < n; i++) out[i] = a[i * sa] > b[i * sb] ? 1 : 0;
  }
}

/**
 * out[i] = a[i % na] op b[i % nb]: one operand is the output's shape, the other the output's
 * trailing dimensions (a bias `[C]` against `[B, H, W, C]`).
 */
function suffixLoop(
  name: BinaryName,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array | Uint8Array,
): void {
  const [n, na, nb] = [out.length, a.length, b.length];
  switch (name) {
    case 'Multiply':
      for (let i = 0; i < n; i++) out[i] = a[i % na] * b[i % nb];
      return;
    case 'Add':
      for (let i = 0; i < n; i++) out[i] = a[i % na] + b[i % nb];
      return;
    case 'Sub':
      for (let i = 0; i < n; i++) out[i] = a[i % na] - b[i % nb];
      return;
    case 'RealDiv':
      for (let i = 0; i < n; i++) out[i] = a[i % na] / b[i % nb];
      return;
    case 'Greater':
      for (let i = 0; i < n; i++) out[i] = a[i % na] > b[i % nb] ? 1 : 0;
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Whether `s` is the trailing dimensions of `of` (and no longer). */
const isSuffix = (s: readonly number[], of: readonly number[]) =>
  s.length <= of.length && sameShape(s, of.slice(of.length - s.length));

/**
 * A float32 binary kernel for equal shapes, one one-element operand, or one operand that is the
 * other's trailing dimensions; null otherwise (general broadcasting goes to cpu).
 */
function binary(name: BinaryName, allocate: Allocate): Kernel {
  return ({ inputs, backend }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = typed(backend, a);
    const bv = typed(backend, b);
    if (!(av instanceof Float32Array && bv instanceof Float32Array)) return null;
    const na = av.length;
    const nb = bv.length;
    const dtype = name === 'Greater' ? 'bool' : 'float32';
    const make = (n: number) => (name === 'Greater' ? new Uint8Array(n) : allocate(n));
    // A one-element operand of higher rank ([1, 1] against [5]) raises the output's rank: cpu.
    let outShape: number[];
    if (sameShape(a.shape, b.shape) || (nb === 1 && b.shape.length <= a.shape.length)) {
      outShape = a.shape;
    } else if (na === 1 && a.shape.length <= b.shape.length) {
      outShape = b.shape;
    } else if (isSuffix(b.shape, a.shape) || isSuffix(a.shape, b.shape)) {
      const shape = isSuffix(b.shape, a.shape) ? a.shape : b.shape;
      const out = make(sizeOf(shape));
      if (out.length > 0) suffixLoop(name, av, bv, out);
      return backend.makeTensorInfo(shape, dtype, out);
    } else return null;
    const n = sizeOf(outShape);
    const out = make(n);
    binaryLoop(name, av, na === n ? 1 : 0, bv, nb === n ? 1 : 0, out);
    return backend.makeTensorInfo(outShape, dtype, out);
  };
}

/**
 * Sum over leading axes `[0, k)` of a float32 tensor (a bias gradient: `[B, H, W, C]` -> `[C]`).
 * cpu transposes the summed axes to the end first; this adds rows in the same order, in double,
 * without the transpose.
 */
const sumLeading: Kernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const xv = typed(backend, x);
  if (!(xv instanceof Float32Array)) return null;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
  const k = axes.length;
  const sorted = [...axes].sort((p, q) => p - q);
  if (k === 0 || k === x.shape.length || !sorted.every((ax, i) => ax === i)) return null;
  const kept = x.shape.slice(k);
  const inner = sizeOf(kept);
  const acc = new Float64Array(inner);
  const rows = inner === 0 ? 0 : xv.length / inner;
  for (let r = 0; r < rows; r++) {
    const o = r * inner;
    for (let c = 0; c < inner; c++) acc[c] += xv[o + c];
  }
  const shape = attrs.keepDims ? [...new Array<number>(k).fill(1), ...kept] : kept;
  return backend.makeTensorInfo(shape, 'float32', Float32Array.from(acc));
};

type UnaryName = 'Sqrt' | 'Step' | 'LeakyRelu';

/**
 * A float32 unary kernel: cpu's closure per element as one loop per operation. Step and
 * LeakyRelu pick by the sign bit from a two-entry table instead of comparing: on activations of
 * random sign a comparison mispredicts about half the time (docs/performance.md, "Per-op
 * overhead"). Zeros and NaNs, rare, keep cpu's results by an explicit test.
 */
function unary(name: UnaryName, allocate: Allocate): Kernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const xv = typed(backend, x);
    if (!(xv instanceof Float32Array)) return null;
    const out = allocate(xv.length);
    const bits = new Int32Array(xv.buffer, xv.byteOffset, xv.length);
    if (name === 'Sqrt') {
      for (let i = 0; i < xv.length; i++) out[i] = Math.sqrt(xv[i]);
    } else if (name === 'LeakyRelu') {
      // cpu: v < 0 ? alpha * v : v, so -0 stays -0 (not -0 x alpha, +0 for alpha < 0); NaN stays NaN.
      const scale = Float64Array.of(1, attrs.alpha as number);
      for (let i = 0; i < xv.length; i++) {
        const b = bits[i];
        out[i] = (b & 0x7fffffff) === 0 ? xv[i] : xv[i] * scale[b >>> 31];
      }
    } else {
      // cpu: NaN stays NaN; v > 0 ? 1 : alpha (so +-0 give alpha). One unsigned test finds both
      // rare cases: magnitude - 1 wraps for +-0 and is at least 0x7f800000 for NaN.
      const alpha = attrs.alpha as number;
      const value = Float32Array.of(1, alpha);
      for (let i = 0; i < xv.length; i++) {
        const b = bits[i];
        out[i] = value[b >>> 31];
        if (((b & 0x7fffffff) - 1) >>> 0 >= 0x7f800000)
          out[i] = (b & 0x7fffffff) === 0 ? alpha : NaN;
      }
    }
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };
}

/** The loop kernels by kernel name, their float32 outputs from `allocate`. */
export function loopKernels(allocate: Allocate): Record<string, Kernel> {
  return {
    Slice: slice(allocate),
    PadV2: padV2(allocate),
    Multiply: binary('Multiply', allocate),
    Add: binary('Add', allocate),
    Sub: binary('Sub', allocate),
    RealDiv: binary('RealDiv', allocate),
    Greater: binary('Greater', allocate),
    Sqrt: unary('Sqrt', allocate),
    Step: unary('Step', allocate),
    LeakyRelu: unary('LeakyRelu', allocate),
    Sum: sumLeading,
  };
}
