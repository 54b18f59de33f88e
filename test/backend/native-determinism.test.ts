import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import {
  createVbnNet,
  spatialMeanOp,
  trainStep,
  useBackend,
  vbnLayerOp,
  vbnNormalizeOp,
  vbnStatsOp,
} from 'vbn';
import { randn, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

const THREADS = [1, 3, 4, 8];
const RUNS = 20;

/** The exact bits of some float32 results, as one string. */
const bits = (ts: tf.Tensor[]) =>
  ts
    .map((t) => Buffer.from((t.dataSync() as Float32Array).slice().buffer).toString('hex'))
    .join('|');

const t = (shape: number[], seed: number, mean = 0) =>
  tf.tensor(randn(size(shape), seed, mean), shape);

/**
 * Values over 40 binary orders of magnitude: their sums round in double, so a different order of
 * additions shows in the bits (sums of float32 values of similar size are exact in double whatever
 * the order, and would hide a race; so are values near an offset, which float32 rounds to a grid).
 */
function spread(shape: number[], seed: number): tf.Tensor {
  const v = randn(size(shape), seed);
  const e = randn(size(shape), seed + 1);
  return tf.tensor(
    v.map((x, i) => x * 2 ** Math.round(e[i] * 7)),
    shape,
  );
}

/** Every fused op, forward and backward, on one input. */
function fusedOps(): string {
  return tf.tidy(() => {
    const [n, b, h, c] = [8, 8, 10, 24];
    const x = spread([n + b, h, h, c], 1);
    const gamma = t([c], 2, 1);
    const beta = t([c], 3);
    const w = tf.tensor1d([...new Array(n).fill(0), ...new Array(b).fill(1 / (n + 1))]);
    const dy = spread([n + b, h, h, c], 4);
    const stats = vbnStatsOp(x, n);
    const layer = (xx: tf.Tensor, g: tf.Tensor, be: tf.Tensor) =>
      tf.sum(tf.mul(vbnLayerOp(xx, n, g, be, w, 1e-5, false).out, dy));
    const norm = (xx: tf.Tensor, hi: tf.Tensor, v: tf.Tensor) =>
      tf.sum(tf.mul(vbnNormalizeOp(xx, hi, stats.lo, v, gamma, beta, w, 1e-5, true), dy));
    const pool = (xx: tf.Tensor) => tf.sum(tf.square(spatialMeanOp(xx, n)));
    // The first and last rows of this gradient cancel exactly: what the rows between add is
    // rounded against the first one, so the result depends on the order the rows are summed in.
    const cancel = tf.concat([
      tf.fill([1, h, h, c], 2 ** 30),
      t([n + b - 2, h, h, c], 5),
      tf.fill([1, h, h, c], -(2 ** 30)),
    ]);
    const linear = (be: tf.Tensor) =>
      tf.sum(
        tf.mul(
          vbnNormalizeOp(x, stats.hi, stats.lo, stats.variance, gamma, be, w, 1e-5, false),
          cancel,
        ),
      );
    return bits([
      stats.hi,
      stats.lo,
      stats.variance,
      vbnLayerOp(x, n, gamma, beta, w, 1e-5, false).out,
      ...tf.grads(layer)([x, gamma, beta]),
      ...tf.grads(norm)([x, stats.hi, stats.variance]),
      spatialMeanOp(x, n),
      ...tf.grads(pool)([x]),
      ...tf.grads(linear)([beta]),
    ]);
  });
}

/** One full training step (two-pass and concat) from fixed weights: the new weights' bits. */
function trainingStep(): string {
  const net = createVbnNet({ inputShape: [12, 12, 1], filters: [4, 8], strides: 1 });
  const params = net.init(5);
  const opt = tf.train.adam(1e-2);
  const ref = t([8, 12, 12, 1], 6);
  const x = t([8, 12, 12, 1], 7);
  const y = tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32');
  for (const strategy of ['two-pass', 'concat'] as const) {
    trainStep(net, params, opt, ref, x, y, { strategy, loss: 'softmax-cross-entropy' });
  }
  const out = bits(Object.values(params));
  tf.dispose([ref, x, y, ...Object.values(params)]);
  opt.dispose();
  return out;
}

describeNative('native results are bitwise reproducible at any thread count', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  const fused = new Map<number, Set<string>>();
  for (const threads of THREADS) {
    it(`${threads} threads: ${RUNS} runs of every fused op (forward, backward) and of a training step give identical bits`, async () => {
      await useBackend('native', undefined, { threads });
      const ops = new Set<string>();
      const steps = new Set<string>();
      for (let i = 0; i < RUNS; i++) {
        ops.add(fusedOps());
        steps.add(trainingStep());
      }
      expect(ops.size).toBe(1);
      expect(steps.size).toBe(1);
      fused.set(threads, ops);
    });
  }
  it('the fused ops give the same bits at every thread count (fixed-order sums)', () => {
    const all = new Set([...fused.values()].flatMap((s) => [...s]));
    expect(fused.size).toBe(THREADS.length);
    expect(all.size).toBe(1);
  });
});

/**
 * Row r of a plain matrix product must not depend on the rows computed with it: a generator then
 * gives G(z0) the same bits alone or among companions (vbn gan-eval's batch independence).
 * oneDNN's product sums rows in a 1-3-row tail of its row blocks in another order; the native
 * backend computes plain products row by row in one fixed order.
 */
describeNative(
  'native plain matrix products are batch-invariant (a row alone = the same row among others)',
  () => {
    afterAll(async () => {
      await useBackend('cpu');
    });
    const cases: { k: number; n: number; ta: boolean; tb: boolean; bias: boolean }[] = [
      { k: 64, n: 3136, ta: false, tb: false, bias: false },
      { k: 3136, n: 1, ta: false, tb: false, bias: true },
      { k: 100, n: 37, ta: true, tb: false, bias: false },
      { k: 33, n: 70, ta: false, tb: true, bias: true },
    ];
    for (const { k, n, ta, tb, bias } of cases) {
      it(`[m, ${k}] x [${k}, ${n}]${ta ? ', A transposed' : ''}${tb ? ', B transposed' : ''}${bias ? ', bias and relu' : ''}: m = 1..20 and 64`, async () => {
        await useBackend('native');
        const mMax = 64;
        const a = spread([mMax, k], 11);
        const b = spread(tb ? [n, k] : [k, n], 12);
        const c = tf.tensor1d(randn(n, 13));
        const rowsOf = (m: number) =>
          tf.tidy(() => {
            const am = tf.slice(a, [0, 0], [m, k]);
            const lhs = ta ? tf.transpose(am) : am;
            const y = bias
              ? tf.fused.matMul({
                  a: lhs,
                  b,
                  transposeA: ta,
                  transposeB: tb,
                  bias: c,
                  activation: 'relu',
                })
              : tf.matMul(lhs, b, ta, tb);
            return y.dataSync() as Float32Array;
          });
        const all = rowsOf(mMax);
        const differing: number[] = [];
        for (const m of [...Array.from({ length: 20 }, (_, i) => i + 1), mMax]) {
          const y = rowsOf(m);
          if (!y.every((v, i) => Object.is(v, all[i]))) differing.push(m);
        }
        expect(differing).toEqual([]);
        // Row 5 alone equals row 5 among the others, whatever the others are.
        const row5 = tf.tidy(() => {
          const r = tf.slice(a, [5, 0], [1, k]);
          return (
            tf.matMul(ta ? tf.transpose(r) : r, b, ta, tb).dataSync() as Float32Array
          ).slice();
        });
        if (!bias) expect(Array.from(row5)).toEqual(Array.from(all.slice(5 * n, 6 * n)));
        tf.dispose([a, b, c]);
      });
    }
  },
);
