import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loopKernels, type Allocate } from '../loop-kernels.js';
import { adamKernel } from './adam-kernel.js';
import { BINARY_OPS, UNARY_OPS, type NativeAddon } from './addon-spec.js';
import { f32, fallback, orFallback, sizeOf, type KernelFunc } from './kernel-util.js';

/**
 * The native backend's element-wise kernels: Add, Sub, Multiply, RealDiv (float32, with one
 * operand the output's shape and the other the same shape, one element or the output's trailing
 * dimensions), LeakyRelu and Step (float32), in the engine (vectorized, two threads from 64k
 * elements). The same bits as the cpu kernels (native/src/elementwise.cc says why). Other dtypes
 * and shapes, and tensors below NATIVE_FROM elements, where the call costs more than the loop,
 * go to the loop kernels and from there to cpu.
 */

/** Outputs from this many elements on are computed by the engine. */
export const NATIVE_FROM = 4096;

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
/** Whether `s` is the trailing dimensions of `of` (and no longer). */
const isSuffix = (s: readonly number[], of: readonly number[]) =>
  s.length <= of.length && sameShape(s, of.slice(of.length - s.length));

/**
 * The output shape of a binary op whose broadcast the engine handles, or null: equal shapes, a
 * one-element operand of no higher rank, or one operand the other's trailing dimensions.
 */
export function engineBroadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const [na, nb] = [sizeOf(a), sizeOf(b)];
  if (sameShape(a, b) || (nb === 1 && b.length <= a.length)) return [...a];
  if (na === 1 && a.length <= b.length) return [...b];
  if (na === 0 || nb === 0) return null;
  if (isSuffix(b, a)) return [...a];
  if (isSuffix(a, b)) return [...b];
  return null;
}

function float32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  return t.dtype === 'float32' ? f32(backend, t) : null;
}

/** The loop kernel of that name in `loops`, else the cpu kernel. */
function loopOrCpu(name: string, loops: ReturnType<typeof loopKernels>): KernelFunc {
  const loop = loops[name];
  return loop ? orFallback(name, loop) : fallback(name);
}

const op = <T extends readonly string[]>(ops: T, name: T[number]) => ops.indexOf(name);
const BINARY = {
  Add: op(BINARY_OPS, 'add'),
  Sub: op(BINARY_OPS, 'sub'),
  Multiply: op(BINARY_OPS, 'mul'),
  RealDiv: op(BINARY_OPS, 'div'),
};
const UNARY = { LeakyRelu: op(UNARY_OPS, 'leakyRelu'), Step: op(UNARY_OPS, 'step') };

/**
 * The kernels by kernel name. `allocate(n)` gives an output's Float32Array, which each kernel
 * writes in full (the native backend's allocateOutput: a reused array, values undefined).
 */
export function elementwiseKernels(
  addon: NativeAddon,
  allocate: Allocate,
): Record<string, KernelFunc> {
  const kernels: Record<string, KernelFunc> = {};
  const loops = loopKernels(allocate);
  for (const [name, op] of Object.entries(BINARY)) {
    const other = loopOrCpu(name, loops);
    kernels[name] = (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const av = float32(args.backend, a);
      const bv = float32(args.backend, b);
      const shape = av && bv ? engineBroadcast(a.shape, b.shape) : null;
      if (!av || !bv || !shape || sizeOf(shape) < NATIVE_FROM) return other(args);
      const out = allocate(sizeOf(shape));
      addon.binary({ op, a: av, b: bv, out });
      return args.backend.makeTensorInfo(shape, 'float32', out);
    };
  }
  for (const [name, op] of Object.entries(UNARY)) {
    const other = loopOrCpu(name, loops);
    kernels[name] = (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const xv = float32(args.backend, x);
      if (!xv || xv.length < NATIVE_FROM) return other(args);
      const out = allocate(xv.length);
      addon.unary({ op, x: xv, out, alpha: args.attrs.alpha as number });
      return args.backend.makeTensorInfo(x.shape, 'float32', out);
    };
  }
  return { ...kernels, ...adamKernel(addon, allocate) };
}
