import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  Tape,
  createVbnNet,
  leaves,
  nativeInfo,
  prepareCheck,
  referenceBatchNorm64,
  runCheck,
  trainStep,
  useBackend,
  valuesOf,
  vbnLayerOp,
  virtualBatchNorm64,
} from 'vbn';
import { randn, relErr, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

const WORKER = join(import.meta.dirname, '..', 'fixtures', 'native-worker.mjs');

/** Runs f on cpu and on native with the same inputs; returns both results as plain arrays. */
async function both(
  f: () => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; native: Float32Array[] }> {
  const out: Record<string, Float32Array[]> = {};
  for (const b of ['cpu', 'native'] as const) {
    await useBackend(b);
    out[b] = tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => t.dataSync().slice() as Float32Array);
    });
  }
  return { cpu: out.cpu, native: out.native };
}

const t4 = (shape: number[], seed: number) => tf.tensor(randn(size(shape), seed), shape);

describeNative('native kernels against the cpu backend', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  // Randomized shapes: strides, 'same'/'valid', batch 1, odd sizes, channels 1..64.
  const rng = (() => {
    let s = 12345;
    return (n: number) => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s % n;
    };
  })();
  const convCases = Array.from({ length: 14 }, (_, i) => {
    const k = [1, 2, 3, 5][rng(4)];
    const stride = 1 + rng(3);
    const pad = rng(2) ? 'same' : 'valid';
    const h = k + rng(12);
    const w = k + rng(12);
    const ci = [1, 2, 3, 16, 64][rng(5)];
    const co = [1, 4, 8, 32, 64][rng(5)];
    return { b: i === 0 ? 1 : 1 + rng(4), h, w, ci, co, k, stride, pad: pad as 'same' | 'valid' };
  });
  for (const c of convCases) {
    it(`Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, FusedConv2D: ${JSON.stringify(c)}`, async () => {
      const { cpu, native } = await both(() => {
        const x = t4([c.b, c.h, c.w, c.ci], 1);
        const f = t4([c.k, c.k, c.ci, c.co], 2);
        const bias = t4([c.co], 3);
        const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad);
        const dy = t4(y.shape, 4);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)),
        )([x, f]);
        const fused = tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: c.stride,
          pad: c.pad,
          bias,
          activation: 'relu',
        });
        return [y, dx, dw, fused];
      });
      ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D'].forEach(
        (name, i) => {
          expect(relErr(native[i], cpu[i]), name).toBeLessThan(1e-5);
        },
      );
    });
  }

  it('BatchMatMul (transposes, batch broadcast) and _FusedMatMul (bias, relu)', async () => {
    const { cpu, native } = await both(() => {
      const a = t4([3, 5, 7], 5);
      const b = t4([3, 7, 4], 6);
      const bt = t4([1, 4, 7], 7);
      const a2 = t4([6, 9], 8);
      const b2 = t4([9, 3], 9);
      return [
        tf.matMul(a, b),
        tf.matMul(a, bt, false, true),
        tf.matMul(tf.transpose(a, [0, 2, 1]), b, true, false),
        tf.fused.matMul({ a: a2, b: b2, bias: t4([3], 10), activation: 'relu' }),
        tf.fused.matMul({ a: a2, b: b2, transposeB: false }),
      ];
    });
    native.forEach((v, i) => expect(relErr(v, cpu[i]), `case ${i}`).toBeLessThan(1e-5));
  });

  it('fused VBN layer (both strategies, every mode) agrees with the composed ops on cpu', async () => {
    for (const mode of ['virtual', 'reference'] as const) {
      for (const stopReferenceGradient of [false, true]) {
        const r = await runCheck(
          await prepareCheck({
            backends: ['cpu', 'native'],
            steps: 3,
            network: { mode, stopReferenceGradient, filters: [3, 5] },
          }),
        );
        expect(r.rows.filter((x) => !x.ok).map((x) => `${x.backend} ${x.message}`)).toEqual([]);
      }
    }
  });

  it('fused VBN layer with 8 and 19 channels (the 8-wide vector loops of the kernels and their tails) agrees with the composed ops on cpu', async () => {
    const r = await runCheck(
      await prepareCheck({
        backends: ['cpu', 'native'],
        steps: 2,
        network: { mode: 'virtual', filters: [8, 19] },
      }),
    );
    expect(r.rows.filter((x) => !x.ok).map((x) => `${x.backend} ${x.message}`)).toEqual([]);
  });

  it('fused VBN stays accurate for features with mean 1e4 and std 1 where plain float32 two-pass statistics fail', async () => {
    await useBackend('native');
    const [n, b, h, c] = [4, 3, 5, 3];
    const all = randn((n + b) * h * h * c, 21, 1e4, 1);
    const gamma = randn(c, 22, 1, 0.2);
    const beta = randn(c, 23);
    const w = 1 / (n + 1);
    const got = tf.tidy(() => {
      const x = tf.tensor(all, [n + b, h, h, c]);
      const weights = tf.tensor1d([...new Array(n).fill(0), ...new Array(b).fill(w)]);
      return vbnLayerOp(x, n, tf.tensor(gamma), tf.tensor(beta), weights, 1e-5, false)
        .out.dataSync()
        .slice();
    });
    // The same layer with plain float32 two-pass moments (mean, then mean of squared deviations)
    // of R and of [R; x_i]: no pivot, no offset.
    const plain = tf.tidy(() => {
      const x = tf.tensor(all, [n + b, h, h, c]);
      const ref = tf.slice(x, 0, n);
      const norm = (v: tf.Tensor, of: tf.Tensor) => {
        const m = tf.moments(of, [0, 1, 2]);
        return tf.relu(tf.batchNorm(v, m.mean, m.variance, beta, gamma, 1e-5));
      };
      const rows = [norm(ref, ref)];
      for (let i = n; i < n + b; i++) {
        const xi = tf.slice(x, i, 1);
        rows.push(norm(xi, tf.concat([ref, xi])));
      }
      return tf.concat(rows).dataSync().slice();
    });
    const t = new Tape();
    const per = h * h * c;
    const ref = leaves(t, [n, h, h, c], all.subarray(0, n * per));
    const x = leaves(t, [b, h, h, c], all.subarray(n * per));
    const o = {
      mode: 'virtual' as const,
      axis: 3,
      batchAxis: 0,
      epsilon: 1e-5,
      stopReferenceGradient: false,
      gamma: Array.from(gamma, (g) => t.leaf(g)),
      beta: Array.from(beta, (v) => t.leaf(v)),
    };
    const want = Float64Array.from(
      [
        ...valuesOf(t, referenceBatchNorm64(t, ref, o)),
        ...valuesOf(t, virtualBatchNorm64(t, x, ref, o)),
      ].map((v) => Math.max(v, 0)),
    );
    // Measured: native 2.9e-8; plain float32 1.2e-4; native without the offset lo (x - hi only)
    // 1.3e-4. The bound sits between them, so deleting the offset fails this test.
    expect(relErr(got, want)).toBeLessThan(1e-6);
    expect(relErr(plain, want) < 1e-6).toBe(false);
  });
});

describeNative('native engine threads', () => {
  it('follow useBackend({ threads }) (CLI: --threads)', async () => {
    await useBackend('native', undefined, { threads: 1 });
    expect(nativeInfo()!.threads).toBe(1);
    await useBackend('native', undefined, { threads: availableParallelism() });
    expect(nativeInfo()!.threads).toBe(availableParallelism());
    for (const threads of [0, 257, 1.5, NaN]) {
      await expect(useBackend('native', undefined, { threads })).rejects.toThrow(
        new RegExp(
          `^useBackend: threads ${threads} is out of range \\(expected an integer in \\[1, 256\\]`,
        ),
      );
    }
    expect(nativeInfo()!.threads).toBe(availableParallelism());
    await useBackend('cpu');
  });

  it('a primitive is cached per thread count (oneDNN splits work and sizes scratch by it) and stays right', async () => {
    const conv = () => {
      const x = t4([3, 11, 11, 8], 40);
      const f = t4([3, 3, 8, 16], 41);
      const dy = t4([3, 9, 9, 16], 42);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), dy)),
      )([x, f]);
      return [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'), ...grads];
    };
    await useBackend('cpu');
    const want = tf.tidy(() => conv().map((r) => r.dataSync().slice()));
    const cached: number[] = [];
    for (const threads of [1, 3, 1, 3]) {
      await useBackend('native', undefined, { threads });
      const got = tf.tidy(() => conv().map((r) => r.dataSync().slice()));
      got.forEach((g, i) =>
        expect(relErr(g, want[i]), `threads ${threads}, output ${i}`).toBeLessThan(1e-5),
      );
      cached.push(nativeInfo()!.cachedPrimitives);
    }
    // New primitives for 3 threads; none when the same shapes come back at 1 and 3 threads.
    expect(cached[1]).toBeGreaterThan(cached[0]);
    expect(cached.slice(2)).toEqual([cached[1], cached[1]]);
    await useBackend('cpu');
  });

  it('worker threads calling the engine at once get the results of a lone caller (engine lock)', async () => {
    const run = (seed: number, iterations: number) =>
      new Promise<Record<string, string>>((resolve, reject) => {
        const w = new Worker(WORKER, { workerData: { seed, iterations } });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)));
      });
    const alone = await run(0, 3);
    const together = await Promise.all([0, 1, 2, 3].map((seed) => run(seed, 24)));
    for (const r of together) expect(r).toEqual(alone);
  });
});

describeNative('native training loop', () => {
  beforeAll(async () => {
    await useBackend('native');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });
  it('keeps the tensor count and RSS flat over 200 steps', () => {
    const net = createVbnNet({ inputShape: [16, 16, 1], filters: [8, 16] });
    const params = net.init(3);
    const opt = tf.train.adam(1e-3);
    const ref = t4([8, 16, 16, 1], 30);
    const x = t4([8, 16, 16, 1], 31);
    const y = tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32');
    const step = (i: number) =>
      trainStep(net, params, opt, ref, x, y, {
        strategy: i % 2 ? 'concat' : 'two-pass',
        loss: 'softmax-cross-entropy',
      });
    for (let i = 0; i < 20; i++) step(i);
    const tensors = tf.memory().numTensors;
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 200; i++) step(i);
    expect(tf.memory().numTensors).toBe(tensors);
    expect((process.memoryUsage().rss - rss) / 2 ** 20).toBeLessThan(64);
    tf.dispose([ref, x, y, ...Object.values(params)]);
    opt.dispose();
  });
});
