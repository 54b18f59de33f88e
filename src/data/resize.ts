import * as tf from '@tensorflow/tfjs-core';

/** Bilinear resize of [n, H, W, C] images to [n, size, size, C] (TensorFlow.js' own kernel). */
export function resizeImages(
  images: Float32Array,
  n: number,
  shape: [number, number, number],
  size: number,
): Float32Array {
  if (shape[0] === size && shape[1] === size) return images;
  const out = new Float32Array(n * size * size * shape[2]);
  const chunk = 256;
  const p = shape[0] * shape[1] * shape[2];
  for (let i = 0; i < n; i += chunk) {
    const m = Math.min(chunk, n - i);
    const r = tf.tidy(() =>
      tf.image
        .resizeBilinear(
          tf.tensor4d(images.subarray(i * p, (i + m) * p), [m, ...shape]),
          [size, size],
          true,
        )
        .dataSync(),
    );
    out.set(r, i * size * size * shape[2]);
  }
  return out;
}
