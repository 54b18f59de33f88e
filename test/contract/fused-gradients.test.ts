import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { VbnError, useBackend, vbnLayerOp, vbnNormalizeOp, vbnStatsOp } from 'vbn';
import { normalizeWithWeight } from '../../src/vbn/normalize.js';
import { randomTensor, relErr } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * What each fused op's registered gradient differentiates (src/backend/fused-ops.ts), against the
 * same functions composed from TensorFlow.js ops: the mean is hi + lo, and a function of hi + lo
 * must get the mean's gradient once, not twice; every input of VbnNormalize has its gradient.
 */
const [N, S, C] = [5, 6, 3];
const data = () => ({
  x: randomTensor([N, S, C], 1, 0.5, 2).tensor,
  p: randomTensor([C], 2).tensor,
  q: randomTensor([C], 3).tensor,
});
const close = (a: tf.Tensor, b: tf.Tensor, what: string) =>
  expect(relErr(a.dataSync(), b.dataSync()), what).toBeLessThan(1e-5);

describeNative('fused ops: what each gradient differentiates', () => {
  beforeAll(async () => {
    await useBackend('native');
  });

  it("vbnStatsOp: hi + lo has the mean's gradient (once), lo alone too, hi none; variance the variance's", () => {
    const { x, p, q } = data();
    const composed = tf.grad((x: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1]);
      return tf.add(tf.sum(tf.mul(mean, p)), tf.sum(tf.mul(variance, q)));
    })(x);
    const fused = tf.grad((x: tf.Tensor) => {
      const s = vbnStatsOp(x);
      return tf.add(tf.sum(tf.mul(tf.add(s.hi, s.lo), p)), tf.sum(tf.mul(s.variance, q)));
    })(x);
    close(fused, composed, 'd/dx of mean and variance');
    const meanOnly = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [0, 1]), p)))(x);
    close(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(vbnStatsOp(x).lo, p)))(x), meanOnly, 'lo');
    const viaHi = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(vbnStatsOp(x).hi, p)))(x);
    expect(Array.from(viaHi.dataSync()).every((v) => v === 0)).toBe(true);
  });

  it("vbnNormalizeOp: the gradient w.r.t. x, hi, lo, variance, gamma and beta equals the composed formula's", () => {
    const { x } = data();
    const stats = vbnStatsOp(randomTensor([4, S, C], 4, 1, 3).tensor);
    const gamma = randomTensor([C], 5, 1, 0.2).tensor;
    const beta = randomTensor([C], 6).tensor;
    const w = tf.tensor1d([0, 0.2, 0.2, 0, 0.2]);
    const dy = randomTensor([N, S, C], 7).tensor;
    const inputs = [x, stats.hi, stats.lo, stats.variance, gamma, beta];
    const fused = tf.grads((x, hi, lo, v, g, b) =>
      tf.sum(tf.mul(vbnNormalizeOp(x, hi, lo, v, g, b, w, 1e-5, false), dy)),
    )(inputs);
    const composed = tf.grads((x, hi, lo, v, g, b) => {
      const s = { pivot: hi, offset: lo, variance: v, channels: C } as Parameters<
        typeof normalizeWithWeight
      >[1];
      const out = normalizeWithWeight(x, s, tf.reshape(w, [N, 1, 1]), 2, 0, 1e-5, g, b);
      return tf.sum(tf.mul(out, dy));
    })(inputs);
    ['x', 'hi', 'lo', 'variance', 'gamma', 'beta'].forEach((k, i) =>
      close(fused[i], composed[i], k),
    );
  });

  it('vbnLayerOp (VbnLayerGrad): closed forms for beta and gamma, shift and scale invariance for x', () => {
    // L = sum(ReLU(VBN(x)) * dy) (vbnLayerOp applies the ReLU): with m = [out > 0], dL/dbeta =
    // sum(dy * m) and dL/dgamma = sum(dy * m * xhat) per channel; L does not change when every row
    // of a channel is shifted or (with epsilon -> 0) scaled, so sum(dx) = sum(x * dx) = 0.
    const n = 3;
    const x = randomTensor([N, S, C], 11, 2, 3).tensor;
    const gamma = randomTensor([C], 12, 1, 0.3).tensor;
    const beta = randomTensor([C], 13).tensor;
    const w = tf.tensor1d([0, 0, 0, 0.25, 0.25]);
    const dy = randomTensor([N, S, C], 14).tensor;
    const eps = 1e-10;
    const [dx, dGamma, dBeta] = tf.grads((x, g, b) =>
      tf.sum(tf.mul(vbnLayerOp(x, n, g, b, w, eps, false).out, dy)),
    )([x, gamma, beta]);
    const out = vbnLayerOp(x, n, gamma, beta, w, eps, false).out;
    const active = tf.mul(dy, tf.cast(tf.greater(out, 0), 'float32'));
    close(dBeta, tf.sum(active, [0, 1]), 'beta: sum(dy * m)');
    const xhat = tf.div(tf.sub(out, beta), gamma);
    close(dGamma, tf.sum(tf.mul(active, xhat), [0, 1]), 'gamma: sum(dy * m * xhat)');
    const perChannel = (t: tf.Tensor) => tf.sum(t, [0, 1]).dataSync();
    const shift = perChannel(dx);
    const scale = perChannel(tf.mul(dx, x));
    const size = perChannel(tf.abs(tf.mul(dx, x)));
    for (let c = 0; c < C; c++) {
      expect(Math.abs(shift[c]), `shift, channel ${c}`).toBeLessThan(
        1e-5 * perChannel(tf.abs(dx))[c],
      );
      expect(Math.abs(scale[c]), `scale, channel ${c}`).toBeLessThan(1e-5 * size[c]);
    }
  });

  it('vbnNormalizeOp and vbnLayerOp refuse a gradient w.r.t. rowWeights instead of a silent zero', () => {
    const { x } = data();
    const s = vbnStatsOp(x);
    const [g, b] = [tf.ones([C]), tf.zeros([C])];
    const w = tf.fill([N], 1 / 6);
    const normalize = () =>
      tf.grad((w: tf.Tensor) =>
        tf.sum(vbnNormalizeOp(x, s.hi, s.lo, s.variance, g, b, w as tf.Tensor1D, 1e-5, false)),
      )(w);
    expect(normalize).toThrow(VbnError);
    expect(normalize).toThrow(/^vbnNormalizeOp: no gradient w.r.t. rowWeights/);
    const layer = () =>
      tf.grad((w: tf.Tensor) => tf.sum(vbnLayerOp(x, 2, g, b, w as tf.Tensor1D, 1e-5, false).out))(
        w,
      );
    expect(layer).toThrow(/^vbnLayerOp: no gradient w.r.t. rowWeights/);
  });
});
