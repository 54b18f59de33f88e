import type * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../../errors.js';
import { ADAM_KERNEL, type AdamAttrs } from '../fused-adam.js';
import type { NativeAddon } from './addon-spec.js';
import type { KernelFunc } from './kernel-util.js';

/**
 * The native backend's fused Adam update of one variable (GanAdam's, src/gan/fused-adam.ts):
 * one pass over value, both moments and the gradient instead of about a dozen kernels, the
 * same float32 operations in the same order (native/src/elementwise.cc).
 */
/** The AdamUpdate kernel: inputs value, m, v, grad (float32, one shape); outputs [value, m, v]. */
export function adamKernel(
  addon: NativeAddon,
  allocate: (n: number) => Float32Array,
): Record<string, KernelFunc> {
  const kernel: KernelFunc = ({ inputs, backend, attrs }) => {
    const named = inputs as Record<'value' | 'm' | 'v' | 'grad', tf.TensorInfo>;
    const data = (name: 'value' | 'm' | 'v' | 'grad') => {
      const t = named[name];
      const values = backend.data.get(t.dataId).values;
      if (t.dtype !== 'float32' || !(values instanceof Float32Array)) {
        throw new VbnError(
          `${ADAM_KERNEL}: ${name} must be float32 but has dtype ${t.dtype} (shape ${shapeString(t.shape)})`,
        );
      }
      return values;
    };
    const [value, m, v, grad] = [data('value'), data('m'), data('v'), data('grad')];
    const n = value.length;
    const [newValue, newM, newV] = [allocate(n), allocate(n), allocate(n)];
    addon.adam({ value, m, v, grad, newValue, newM, newV, ...(attrs as unknown as AdamAttrs) });
    const shape = named.value.shape;
    return [newValue, newM, newV].map((out) => backend.makeTensorInfo(shape, 'float32', out));
  };
  return { [ADAM_KERNEL]: kernel };
}
