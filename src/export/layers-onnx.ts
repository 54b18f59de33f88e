import * as tf from '@tensorflow/tfjs-core';
import type { OnnxGraph } from './onnx-graph.js';

/** NHWC -> NCHW, as a Transpose permutation. */
export const TO_NCHW = [0, 3, 1, 2];
/** NCHW -> NHWC. */
export const TO_NHWC = [0, 2, 3, 1];

/**
 * TensorFlow's padding of one spatial axis for a convolution over `size` values: [before, after].
 * 'same' pads max((ceil(size/s) - 1) s + k - size, 0) in total, the smaller half first.
 */
export function tfPads(
  size: number,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * A TF.js kernel `[k, k, A, B]` as ONNX wants it, `[B, A, k, k]`: Conv's `[F, C_in, k, k]` from
 * conv2d's `[k, k, C_in, F]`, ConvTranspose's `[C_in, C_out, k, k]` from conv2dTranspose's
 * `[k, k, C_out, C_in]`.
 */
export function onnxKernel(g: OnnxGraph, name: string, kernel: tf.Tensor): string {
  const [k0, k1, a, b] = kernel.shape;
  const values = tf.tidy(() => tf.transpose(kernel, [3, 2, 0, 1]).dataSync() as Float32Array);
  return g.constant(name, values, [b, a, k0, k1]);
}

/** A tensor's values as a float32 constant of its own shape (a bias `[C]`, a dense kernel `[F, K]`). */
export function onnxTensor(g: OnnxGraph, name: string, t: tf.Tensor): string {
  return g.constant(name, Float32Array.from(t.dataSync()), t.shape);
}

/**
 * tf.conv2dTranspose(x, kernel, [b, s h, s w, C_out], s, 'same') on `x` `[B, C_in, h, w]`: the
 * gradient of a 'same' conv2d over the s h x s w output, so its pads, and any output the kernel
 * does not reach (k < s) as output_padding at the end.
 */
export function convTransposeSame(
  g: OnnxGraph,
  name: string,
  x: string,
  kernel: tf.Tensor,
  inSize: [number, number],
  stride: number,
  bias?: tf.Tensor,
): string {
  const k = kernel.shape[0];
  const [ph, pw] = inSize.map((s) => tfPads(s * stride, k, stride, 'same'));
  const reach = (s: number, p: [number, number]) => stride * (s - 1) + k - p[0] - p[1];
  const inputs = [x, onnxKernel(g, `${name}/kernel`, kernel)];
  if (bias) inputs.push(onnxTensor(g, `${name}/bias`, bias));
  return g.node('ConvTranspose', inputs, {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [ph[0], pw[0], ph[1], pw[1]],
    output_padding: [
      stride * inSize[0] - reach(inSize[0], ph),
      stride * inSize[1] - reach(inSize[1], pw),
    ],
  });
}
