import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { VbnError, shapeString } from '../../errors.js';

/** What the native backend's kernels share: their type, tensor data access, the cpu fallback. */
export type KernelArgs<I = tf.NamedTensorInfoMap, A = tf.NamedAttrMap> = {
  inputs: I;
  backend: MathBackendCPU;
  attrs: A;
};
export type KernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/**
 * A kernel written against its contract's inputs and attributes (kernel-names.ts): the engine
 * passes them as untyped maps, and this is the one place they are taken as the contract says.
 */
export function typedKernel<I, A>(
  f: (args: KernelArgs<I, A>) => tf.TensorInfo | tf.TensorInfo[],
): KernelFunc {
  return (args) => f(args as unknown as KernelArgs<I, A>);
}

export const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A tensor's values when they are float32, else null. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** The float32 values of a fused kernel's input; a VbnError naming the kernel otherwise. */
export function values(
  backend: MathBackendCPU,
  t: tf.TensorInfo,
  kernel: string,
  name: string,
): Float32Array {
  const v = f32(backend, t);
  if (!v) {
    throw new VbnError(
      `${kernel}: ${name} must be float32 but has dtype ${t.dtype} (shape ${shapeString(t.shape)})`,
    );
  }
  return v;
}

/** The cpu backend's kernel of that name. */
export function fallback(name: string): KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`cpu kernel ${name} missing`);
  return k.kernelFunc as unknown as KernelFunc;
}

/** A kernel that returns null where it does not apply, completed by the cpu kernel there. */
export function orFallback(
  name: string,
  kernel: (args: KernelArgs) => tf.TensorInfo | null,
): KernelFunc {
  return (args) => kernel(args) ?? fallback(name)(args);
}
