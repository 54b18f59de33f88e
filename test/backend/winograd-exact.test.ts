import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { loadAddon } from '../../src/backend/node/native.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The native engine's Winograd F(2x2, 3x3) path (stride 1, 3x3, 16 -> 32 channels and up) on
 * small integers: its transforms multiply by 0, +-1 and 1/2 only, so every intermediate value is
 * a short binary fraction and the result must equal the integer convolution exactly, in all three
 * passes. A wrong transform coefficient shows as a wrong integer, whatever the tolerance elsewhere.
 */
const [B, H, W, CI, CO] = [2, 9, 8, 16, 32];
const WINOGRAD = 2;
const ints = (n: number, seed: number, range: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return ((s >>> 8) % (2 * range + 1)) - range;
  });
};

/** Exact integer convolution and its two gradients ('same': pad 1 on every side). */
function exact(x: Float32Array, w: Float32Array, dy: Float32Array) {
  const y = new Float64Array(B * H * W * CO);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < B; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let p = 0; p < 3; p++)
          for (let q = 0; q < 3; q++) {
            const [r, c] = [i + p - 1, j + q - 1];
            if (r < 0 || r >= H || c < 0 || c >= W) continue;
            for (let ci = 0; ci < CI; ci++) {
              const xi = ((n * H + r) * W + c) * CI + ci;
              for (let co = 0; co < CO; co++) {
                const wi = ((p * 3 + q) * CI + ci) * CO + co;
                const yi = ((n * H + i) * W + j) * CO + co;
                y[yi] += x[xi] * w[wi];
                dx[xi] += dy[yi] * w[wi];
                dw[wi] += dy[yi] * x[xi];
              }
            }
          }
  return { y, dx, dw };
}

describeNative('native Winograd convolution on small integers', () => {
  beforeAll(async () => {
    await useBackend('native');
  });

  it('forward, backward-data and backward-weights equal the integer convolution exactly', () => {
    const x = ints(B * H * W * CI, 1, 3);
    const w = ints(9 * CI * CO, 2, 2);
    const dy = ints(B * H * W * CO, 3, 2);
    const want = exact(x, w, dy);
    const xt = tf.tensor4d(x, [B, H, W, CI]);
    const wt = tf.tensor4d(w, [3, 3, CI, CO]);
    const dyt = tf.tensor4d(dy, [B, H, W, CO]);
    const y = tf.conv2d(xt, wt, 1, 'same');
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dyt)),
    )([xt, wt]);
    const mismatches = (got: tf.Tensor, exp: Float64Array) =>
      Array.from(got.dataSync()).filter((v, i) => v !== exp[i]).length;
    expect(mismatches(y, want.y), 'forward').toBe(0);
    expect(mismatches(dx, want.dx), 'backward-data').toBe(0);
    expect(mismatches(dw, want.dw), 'backward-weights').toBe(0);
    tf.dispose([xt, wt, dyt, y, dx, dw]);
  });

  it('the same through the engine with Winograd asked for explicitly (algorithm 2)', () => {
    // tf.conv2d above takes Winograd by the engine's automatic choice; this holds whatever it is.
    const a = loadAddon()!;
    const x = ints(B * H * W * CI, 4, 3);
    const w = ints(9 * CI * CO, 5, 2);
    const dy = ints(B * H * W * CO, 6, 2);
    const want = exact(x, w, dy);
    const [xs, ws, ys] = [
      [B, H, W, CI],
      [3, 3, CI, CO],
      [B, H, W, CO],
    ];
    const geometry = { strides: [1, 1], padL: [1, 1], padR: [1, 1], dilations: [1, 1] };
    const y = new Float32Array(B * H * W * CO);
    const algorithm = WINOGRAD;
    a.conv2d({
      x,
      xShape: xs,
      w,
      wShape: ws,
      out: y,
      outShape: ys,
      ...geometry,
      bias: null,
      activation: 0,
      algorithm,
    });
    const dx = new Float32Array(x.length);
    a.conv2dBackpropInput({
      dy,
      dyShape: ys,
      w,
      wShape: ws,
      dx,
      dxShape: xs,
      ...geometry,
      algorithm,
    });
    const dw = new Float32Array(w.length);
    a.conv2dBackpropFilter({
      x,
      xShape: xs,
      dy,
      dyShape: ys,
      dw,
      dwShape: ws,
      ...geometry,
      algorithm,
    });
    const mismatches = (got: Float32Array, exp: Float64Array) =>
      got.filter((v, i) => v !== exp[i]).length;
    expect(mismatches(y, want.y), 'forward').toBe(0);
    expect(mismatches(dx, want.dx), 'backward-data').toBe(0);
    expect(mismatches(dw, want.dw), 'backward-weights').toBe(0);
  });
});
