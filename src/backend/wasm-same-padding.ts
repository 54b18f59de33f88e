import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm 4.22 hands 'same' padding to XNNPACK as a flag, and XNNPACK computes the
 * total padding (out - 1) * s + k - in in unsigned arithmetic. Where that is negative (a stride
 * above the kernel size, e.g. a 3x3 input, 2x2 kernel, stride 3) it wraps around and the output
 * is zeros. TensorFlow.js' own padding (clamped at 0, the same numbers cpu uses) is passed
 * explicitly instead, wherever the total would be negative; elsewhere the attributes are kept.
 */
type ConvAttrs = {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

const pair = (v: number | [number, number] | undefined): [number, number] =>
  Array.isArray(v) ? v : [v ?? 1, v ?? 1];

/** Explicit padding for 'same' where XNNPACK's total would be negative; else the attributes as given. */
export function samePaddingForXnnpack(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): ConvAttrs {
  if (attrs.pad !== 'same' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return attrs;
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations);
  const total = (size: number, k: number, s: number, d: number) =>
    (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size;
  const negative =
    total(xShape[1], filterShape[0], sh, dh) < 0 || total(xShape[2], filterShape[1], sw, dw) < 0;
  if (!negative) return attrs;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    [sh, sw],
    [dh, dw],
    'same',
  );
  const { top, bottom, left, right } = info.padInfo;
  return {
    ...attrs,
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  };
}

let registered = false;

/** Wraps wasm's Conv2D and FusedConv2D with the explicit padding above. Idempotent. */
export function registerWasmSamePadding(): void {
  if (registered) return;
  registered = true;
  for (const kernelName of ['Conv2D', 'FusedConv2D']) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const { x, filter } = args.inputs as Record<string, tf.TensorInfo>;
        const attrs = samePaddingForXnnpack(x.shape, filter.shape, args.attrs as ConvAttrs);
        return original.kernelFunc({ ...args, attrs: attrs as unknown as tf.NamedAttrMap });
      },
    });
  }
}
