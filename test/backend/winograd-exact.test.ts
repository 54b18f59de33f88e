import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { loadAddon } from '../../src/backend/node/native.js';
import { conv64, conv64BackData, conv64BackFilter, type Case } from '../support/conv64.js';
import { convPasses } from '../support/conv-passes.mjs';
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

/** The case: 'same' (pad 1 on every side). */
const CASE: Case = { b: B, h: H, w: W, ci: CI, co: CO, pads: [1, 1, 1, 1] };

/**
 * The integer convolution and its two gradients: conv64's float64 sums, exact on these integers.
 */
function exact(x: Float32Array, w: Float32Array, dy: Float32Array) {
  return {
    y: conv64(CASE, x, w).y,
    dx: conv64BackData(CASE, dy, w).y,
    dw: conv64BackFilter(CASE, x, dy),
  };
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
    const { y, dx, dw } = convPasses(a, CASE, x, w, dy, WINOGRAD);
    const mismatches = (got: Float32Array, exp: Float64Array) =>
      got.filter((v, i) => v !== exp[i]).length;
    expect(mismatches(y, want.y), 'forward').toBe(0);
    expect(mismatches(dx, want.dx), 'backward-data').toBe(0);
    expect(mismatches(dw, want.dw), 'backward-weights').toBe(0);
  });
});
