import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { loadAddon, type NativeAddon } from '../../src/backend/node/native.js';
import { randn, relErr, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';
import { conv64, conv64BackData, conv64BackFilter, outSize, type Case } from '../support/conv64.js';

// The Winograd F(2x2, 3x3) convolution of the native engine (algorithm 2 of conv2d and
// conv2dBackpropInput), forward and backward-data, against a float64 convolution written here and
// against the cpu backend, on randomized shapes.

const WINOGRAD = 2;
const DIRECT = 1;

/**
 * Winograd's scale of each output: it mixes the whole 4x4 input tile of its 2x2 output tile, so its
 * rounding error is measured against sum over channels i of (sum of |x| over that tile) times
 * max |w[., ., i, o]| (for every output of a direct convolution this is at least its sum |x w|).
 * Forward convention: x [B, H, W, Ci], w [3, 3, Ci, Co], tiles at even output rows and columns.
 */
function tileScale(c: Case, x: Float32Array, w: Float32Array): Float64Array {
  const [ho, wo] = outSize(c);
  const wMax = new Float64Array(c.ci * c.co);
  for (let k = 0; k < 9; k++)
    for (let j = 0; j < c.ci * c.co; j++)
      wMax[j] = Math.max(wMax[j], Math.abs(w[k * c.ci * c.co + j]));
  const scale = new Float64Array(c.b * ho * wo * c.co);
  for (let n = 0; n < c.b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const y0 = 2 * Math.floor(oy / 2) - c.pads[0];
        const x0 = 2 * Math.floor(ox / 2) - c.pads[2];
        for (let i = 0; i < c.ci; i++) {
          let sx = 0;
          for (let a = 0; a < 4; a++)
            for (let b = 0; b < 4; b++) {
              const iy = y0 + a;
              const ix = x0 + b;
              if (iy >= 0 && iy < c.h && ix >= 0 && ix < c.w)
                sx += Math.abs(x[((n * c.h + iy) * c.w + ix) * c.ci + i]);
            }
          for (let o = 0; o < c.co; o++)
            scale[((n * ho + oy) * wo + ox) * c.co + o] += sx * wMax[i * c.co + o];
        }
      }
  return scale;
}

/** The backward-data convolution as the forward one that Winograd runs: dy in, rotated filter, pads 2 - pad. */
function backDataAsForward(c: Case, w: Float32Array): { c: Case; w: Float32Array } {
  const [ho, wo] = outSize(c);
  const r = new Float32Array(w.length);
  for (let kh = 0; kh < 3; kh++)
    for (let kw = 0; kw < 3; kw++)
      for (let i = 0; i < c.ci; i++)
        for (let o = 0; o < c.co; o++)
          r[((kh * 3 + kw) * c.co + o) * c.ci + i] =
            w[(((2 - kh) * 3 + (2 - kw)) * c.ci + i) * c.co + o];
  const pt = 2 - c.pads[0];
  const pl = 2 - c.pads[2];
  return {
    c: {
      b: c.b,
      h: ho,
      w: wo,
      ci: c.co,
      co: c.ci,
      pads: [pt, c.h - ho - pt + 2, pl, c.w - wo - pl + 2],
    },
    w: r,
  };
}

/** The largest |got - want| / (scale * 2^-24): the error in float32 ulps of the scale. */
function scaledError(got: Float32Array, want: Float64Array, scale: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    if (scale[i] > 0) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (scale[i] * 2 ** -24));
    else if (got[i] !== want[i]) return Infinity;
  }
  return worst;
}

const convAttrs = (c: Case) => ({
  strides: [1, 1],
  padL: [c.pads[0], c.pads[2]],
  padR: [c.pads[1], c.pads[3]],
  dilations: [1, 1],
});

function forward(a: NativeAddon, c: Case, x: Float32Array, w: Float32Array, algorithm: number) {
  const [ho, wo] = outSize(c);
  const y = new Float32Array(c.b * ho * wo * c.co);
  a.conv2d({
    x,
    xShape: [c.b, c.h, c.w, c.ci],
    w,
    wShape: [3, 3, c.ci, c.co],
    out: y,
    outShape: [c.b, ho, wo, c.co],
    ...convAttrs(c),
    bias: null,
    activation: 0,
    algorithm,
  });
  return y;
}

function backFilter(a: NativeAddon, c: Case, x: Float32Array, dy: Float32Array, algorithm: number) {
  const [ho, wo] = outSize(c);
  const dw = new Float32Array(9 * c.ci * c.co);
  a.conv2dBackpropFilter({
    x,
    xShape: [c.b, c.h, c.w, c.ci],
    dy,
    dyShape: [c.b, ho, wo, c.co],
    dw,
    dwShape: [3, 3, c.ci, c.co],
    ...convAttrs(c),
    algorithm,
  });
  return dw;
}

function backData(a: NativeAddon, c: Case, dy: Float32Array, w: Float32Array, algorithm: number) {
  const [ho, wo] = outSize(c);
  const dx = new Float32Array(c.b * c.h * c.w * c.ci);
  a.conv2dBackpropInput({
    dy,
    dyShape: [c.b, ho, wo, c.co],
    w,
    wShape: [3, 3, c.ci, c.co],
    dx,
    dxShape: [c.b, c.h, c.w, c.ci],
    ...convAttrs(c),
    algorithm,
  });
  return dx;
}

/** The cpu backend's forward output, input gradient and filter gradient for the same convolution. */
function cpuConv(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.b, c.h, c.w, c.ci]);
    const wt = tf.tensor4d(w, [3, 3, c.ci, c.co]);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [c.pads[0], c.pads[1]],
      [c.pads[2], c.pads[3]],
      [0, 0],
    ];
    const f = (v: tf.Tensor4D) => tf.conv2d(v, wt, 1, pad);
    const dyt = tf.tensor4d(dy, f(xt).shape);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), dyt)))(xt);
    const dw = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(xt, v as tf.Tensor4D, 1, pad), dyt)),
    )(wt);
    return [f(xt), dx, dw].map((t) => t.dataSync() as Float32Array);
  });
}

describeNative('Winograd F(2x2, 3x3) convolutions of the native engine', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  const rng = (() => {
    let s = 2024;
    return (n: number) => {
      s = (s * 1103515245 + 12345) >>> 0;
      return (s >>> 8) % n;
    };
  })();
  const channels = [1, 2, 3, 5, 8, 16, 17, 31, 32, 64];
  // Randomized shapes: batch 1 first, odd and even sizes, channels 1..64, 'valid' (pads 0),
  // 'same' (pads 1) and uneven pads 0..2.
  const cases: Case[] = Array.from({ length: Number(process.env.WINOGRAD_CASES ?? 24) }, (_, i) => {
    const kind = i % 3;
    const pads: Case['pads'] =
      kind === 0 ? [0, 0, 0, 0] : kind === 1 ? [1, 1, 1, 1] : [rng(3), rng(3), rng(3), rng(3)];
    return {
      b: i === 0 ? 1 : 1 + rng(3),
      h: 3 + rng(11),
      w: 3 + rng(11),
      ci: channels[rng(channels.length)],
      co: channels[rng(channels.length)],
      pads,
    };
  });
  const worst = { forward: 0, backData: 0, directForward: 0, directBackData: 0 };
  for (const c of cases) {
    it(`forward, backward-data, backward-weights ${JSON.stringify(c)}: float64 and cpu agree`, async () => {
      const a = loadAddon()!;
      const [ho, wo] = outSize(c);
      const x = randn(c.b * c.h * c.w * c.ci, 1);
      const w = randn(9 * c.ci * c.co, 2);
      const dy = randn(c.b * ho * wo * c.co, 3);
      await useBackend('cpu');
      const [yCpu, dxCpu, dwCpu] = cpuConv(c, x, w, dy);
      const dw = backFilter(a, c, x, dy, WINOGRAD);
      expect(relErr(dw, dwCpu), 'backward-weights vs cpu').toBeLessThan(1e-5);
      expect(relErr(dw, conv64BackFilter(c, x, dy)), 'backward-weights vs float64').toBeLessThan(
        1e-6,
      );
      const y = forward(a, c, x, w, WINOGRAD);
      const dx = backData(a, c, dy, w, WINOGRAD);
      const y64 = conv64(c, x, w);
      const dx64 = conv64BackData(c, dy, w);
      expect(relErr(y, yCpu), 'forward vs cpu').toBeLessThan(1e-5);
      expect(relErr(dx, dxCpu), 'backward-data vs cpu').toBeLessThan(1e-5);
      expect(relErr(y, y64.y), 'forward vs float64').toBeLessThan(1e-6);
      expect(relErr(dx, dx64.y), 'backward-data vs float64').toBeLessThan(1e-6);
      // Elementwise, in float32 ulps of the tile scale (bound documented in docs/performance.md).
      const bd = backDataAsForward(c, w);
      const ys = tileScale(c, x, w);
      const dxs = tileScale(bd.c, dy, bd.w);
      const errors = {
        forward: scaledError(y, y64.y, ys),
        backData: scaledError(dx, dx64.y, dxs),
        directForward: scaledError(forward(a, c, x, w, DIRECT), y64.y, ys),
        directBackData: scaledError(backData(a, c, dy, w, DIRECT), dx64.y, dxs),
      };
      for (const k of Object.keys(worst) as (keyof typeof worst)[])
        worst[k] = Math.max(worst[k], errors[k]);
      expect(errors.forward, 'forward, elementwise').toBeLessThan(8);
      expect(errors.backData, 'backward-data, elementwise').toBeLessThan(8);
    });
  }
  it('prints the worst elementwise errors of the cases above (docs/performance.md)', () => {
    const f = (v: number) => v.toFixed(2);
    console.log(
      `worst error in float32 ulps of the tile scale: Winograd forward ${f(worst.forward)}, backward-data ${f(worst.backData)}; oneDNN direct forward ${f(worst.directForward)}, backward-data ${f(worst.directBackData)}`,
    );
    expect(worst.forward).toBeGreaterThan(0);
  });

  it('bias and relu/relu6 follow the transform (conv2d activation 1 and 2)', () => {
    const a = loadAddon()!;
    const c: Case = { b: 2, h: 7, w: 6, ci: 5, co: 11, pads: [1, 1, 1, 1] };
    const x = randn(size([2, 7, 6, 5]), 4);
    const w = randn(9 * 5 * 11, 5);
    const bias = randn(11, 6).map((v) => 3 * v);
    const y64 = conv64(c, x, w);
    for (const act of [1, 2]) {
      const y = new Float32Array(y64.y.length);
      a.conv2d({
        x,
        xShape: [2, 7, 6, 5],
        w,
        wShape: [3, 3, 5, 11],
        out: y,
        outShape: [2, 7, 6, 11],
        ...convAttrs(c),
        bias,
        activation: act,
        algorithm: WINOGRAD,
      });
      const want = y64.y.map((v, i) => {
        const z = Math.max(v + bias[i % 11], 0);
        return act === 2 ? Math.min(z, 6) : z;
      });
      expect(relErr(y, want), `activation ${act}`).toBeLessThan(1e-6);
    }
  });

  it('bitwise the same result at 1, 2, 3 and 8 threads (no reduction across threads)', () => {
    const a = loadAddon()!;
    const threads = a.info().threads;
    const c: Case = { b: 3, h: 41, w: 37, ci: 32, co: 24, pads: [1, 1, 1, 1] };
    const x = randn(size([3, 41, 37, 32]), 7);
    const w = randn(9 * 32 * 24, 8);
    const dy = randn(size([3, 41, 37, 24]), 9);
    const runs = [1, 2, 3, 8].map((t) => {
      a.setThreads({ n: t });
      return [
        forward(a, c, x, w, WINOGRAD),
        backData(a, c, dy, w, WINOGRAD),
        backFilter(a, c, x, dy, WINOGRAD),
      ];
    });
    a.setThreads({ n: threads });
    for (const r of runs.slice(1)) {
      expect(Buffer.from(r[0].buffer).equals(Buffer.from(runs[0][0].buffer))).toBe(true);
      expect(Buffer.from(r[1].buffer).equals(Buffer.from(runs[0][1].buffer))).toBe(true);
      expect(Buffer.from(r[2].buffer).equals(Buffer.from(runs[0][2].buffer))).toBe(true);
    }
  });

  it('the automatic choice: Winograd from 16->32 channels up (stride 1, 3x3), oneDNN direct below; on AVX-512 oneDNN forward for 16->32', async () => {
    const a = loadAddon()!;
    await useBackend('native');
    // Per pass: forward, backward-data, backward-weights.
    const avx512 = a.info().isa === 'avx512';
    for (const [ci, co, algorithms] of [
      [16, 32, [avx512 ? DIRECT : WINOGRAD, WINOGRAD, WINOGRAD]],
      [32, 64, [WINOGRAD, WINOGRAD, WINOGRAD]],
      [8, 16, [DIRECT, DIRECT, DIRECT]],
      [64, 3, [DIRECT, DIRECT, DIRECT]],
    ] as const) {
      const c: Case = { b: 2, h: 9, w: 10, ci, co, pads: [0, 0, 0, 0] };
      const x = randn(size([2, 9, 10, ci]), 10);
      const w = randn(9 * ci * co, 11);
      const dy = randn(size([2, 7, 8, co]), 12);
      const auto = tf.tidy(() => {
        const xt = tf.tensor4d(x, [2, 9, 10, ci]);
        const wt = tf.tensor4d(w, [3, 3, ci, co]);
        const f = (u: tf.Tensor, v: tf.Tensor) =>
          tf.conv2d(u as tf.Tensor4D, v as tf.Tensor4D, 1, 'valid');
        const [dx, dw] = tf.grads((u: tf.Tensor, v: tf.Tensor) =>
          tf.sum(tf.mul(f(u, v), tf.tensor4d(dy, [2, 7, 8, co]))),
        )([xt, wt]);
        return [f(xt, wt), dx, dw].map((t) => t.dataSync() as Float32Array);
      });
      const want = [
        forward(a, c, x, w, algorithms[0]),
        backData(a, c, dy, w, algorithms[1]),
        backFilter(a, c, x, dy, algorithms[2]),
      ];
      want.forEach((v, i) =>
        expect(
          Buffer.from(auto[i].buffer).equals(Buffer.from(v.buffer)),
          `${ci}->${co} pass ${i}`,
        ).toBe(true),
      );
    }
    await useBackend('cpu');
  });

  it('algorithm 2 where Winograd does not apply, or an unknown algorithm: a RangeError naming it', () => {
    const a = loadAddon()!;
    const x = new Float32Array(2 * 5 * 5 * 3);
    const w5 = new Float32Array(25 * 3 * 4);
    const y1 = new Float32Array(4 * 2);
    const call = (algorithm: number, stride: number) => () =>
      stride === 2
        ? a.conv2d({
            x,
            xShape: [2, 5, 5, 3],
            w: new Float32Array(9 * 12),
            wShape: [3, 3, 3, 4],
            out: new Float32Array(2 * 2 * 2 * 4),
            outShape: [2, 2, 2, 4],
            ...{ strides: [2, 2], padL: [0, 0], padR: [0, 0], dilations: [1, 1] },
            bias: null,
            activation: 0,
            algorithm,
          })
        : a.conv2d({
            x,
            xShape: [2, 5, 5, 3],
            w: w5,
            wShape: [5, 5, 3, 4],
            out: y1,
            outShape: [2, 1, 1, 4],
            ...{ strides: [1, 1], padL: [0, 0], padR: [0, 0], dilations: [1, 1] },
            bias: null,
            activation: 0,
            algorithm,
          });
    expect(call(WINOGRAD, 1)).toThrow(
      /conv2d: the Winograd algorithm needs a 3x3 filter, stride 1 and dilation 1 \(filter shape \[5,5,3,4\]/,
    );
    expect(call(WINOGRAD, 2)).toThrow(RangeError);
    expect(call(3, 1)).toThrow(/algorithm must be an integer in \[0, 2\] but is 3/);
    expect(call(DIRECT, 1)).not.toThrow();
  });
});
