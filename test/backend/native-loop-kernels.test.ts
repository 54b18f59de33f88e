import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { randn, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The native backend's typed-array loops for Slice, PadV2 and the binary element-wise kernels
 * (src/backend/loop-kernels.ts) must give the cpu kernels' values and dtypes bit for bit, on
 * random shapes, including the cases they hand back to cpu (broadcasting, int32, rank-raising
 * one-element operands).
 */

type Result = { shape: number[]; dtype: string; values: number[] };

async function on(backend: 'cpu' | 'native', f: () => tf.Tensor): Promise<Result> {
  await useBackend(backend);
  return tf.tidy(() => {
    const t = f();
    return { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync() as Float32Array) };
  });
}

async function agree(f: () => tf.Tensor): Promise<void> {
  const cpu = await on('cpu', f);
  const native = await on('native', f);
  expect(native.shape).toEqual(cpu.shape);
  expect(native.dtype).toBe(cpu.dtype);
  // Object.is per element: NaN equals NaN, and -0 differs from 0.
  expect(native.values.every((v, i) => Object.is(v, cpu.values[i]))).toBe(true);
}

const rng = (() => {
  let s = 777;
  return (n: number) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % n;
  };
})();

const randomShape = (rank: number) => Array.from({ length: rank }, () => 1 + rng(6));
const tensorOf = (shape: number[], seed: number, dtype: 'float32' | 'int32' | 'bool') => {
  const v = randn(size(shape), seed);
  if (dtype === 'float32') return tf.tensor(v, shape);
  if (dtype === 'int32')
    return tf.tensor(
      v.map((x) => Math.round(x * 10)),
      shape,
      'int32',
    );
  return tf.tensor(
    v.map((x) => (x > 0 ? 1 : 0)),
    shape,
    'bool',
  );
};

describeNative('native loop kernels against the cpu backend', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('Slice: random boxes of ranks 1-5, float32, int32 and bool', async () => {
    for (let c = 0; c < 60; c++) {
      const shape = randomShape(1 + (c % 5));
      const begin = shape.map((d) => rng(d));
      const sizes = shape.map((d, i) => (rng(4) === 0 ? -1 : rng(d - begin[i] + 1)));
      const dtype = (['float32', 'int32', 'bool'] as const)[c % 3];
      await agree(() => tf.slice(tensorOf(shape, c, dtype), begin, sizes));
    }
    // The generator's case: channel 0 of [B, H, W, 8].
    await agree(() => tf.slice(tensorOf([3, 5, 4, 8], 1, 'float32'), [0, 0, 0, 0], [3, 5, 4, 1]));
  });

  it('Slice and PadV2 over whole trailing dimensions (runs of 64+ elements copied at once)', async () => {
    // The GAN's: the batch half of [2B, H, W, C], and [B, ...] padded to [2B, ...]; then boxes
    // whose whole trailing dimensions join runs of 60-200 elements around the 64 threshold.
    await agree(() => tf.slice(tensorOf([8, 7, 7, 16], 2, 'float32'), [4, 0, 0, 0], [4, 7, 7, 16]));
    await agree(() =>
      tf.pad(tensorOf([4, 7, 7, 16], 3, 'float32'), [
        [0, 4],
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
    );
    for (let c = 0; c < 20; c++) {
      const shape = [2 + rng(4), 3 + rng(5), 4 + rng(8), 5 + rng(20)];
      const begin = [rng(2), rng(3), 0, 0];
      const sizes = [shape[0] - begin[0], shape[1] - begin[1] - rng(2), shape[2], shape[3]];
      await agree(() => tf.slice(tensorOf(shape, 100 + c, 'float32'), begin, sizes));
      const pads = [
        [rng(3), rng(3)],
        [rng(2), rng(2)],
        [0, 0],
        [0, 0],
      ] as [number, number][];
      await agree(() => tf.pad(tensorOf(shape, 200 + c, 'int32'), pads, c % 2));
    }
  });

  it('PadV2: random paddings and constants, float32 and int32', async () => {
    for (let c = 0; c < 40; c++) {
      const rank = 1 + (c % 5);
      const shape = randomShape(rank);
      const paddings = shape.map(() => [rng(3), rng(3)] as [number, number]);
      const constant = [0, 1.5, -2][c % 3];
      const dtype = c % 4 === 3 ? 'int32' : 'float32';
      await agree(() => tf.pad(tensorOf(shape, c, dtype), paddings, constant));
    }
  });

  it('Multiply, Add, Sub, RealDiv, Greater: equal shapes, scalars either side, and fallbacks', async () => {
    const ops = [tf.mul, tf.add, tf.sub, tf.div, tf.greater] as const;
    for (const op of ops) {
      // A bias [C] or [W, C] against [B, H, W, C], either side.
      const full = () => tensorOf([2, 3, 4, 5], 7, 'float32');
      for (const tail of [[5], [4, 5], [1, 5]]) {
        await agree(() => op(full(), tensorOf(tail, 8, 'float32')));
        await agree(() => op(tensorOf(tail, 9, 'float32'), full()));
      }
      // As many elements either side, the output has the higher rank: [5] with [1, 5] is [1, 5].
      await agree(() => op(tensorOf([5], 10, 'float32'), tensorOf([1, 5], 11, 'float32')));
      await agree(() => op(tensorOf([1, 5], 12, 'float32'), tensorOf([5], 13, 'float32')));
    }
    for (let c = 0; c < 80; c++) {
      const op = ops[c % ops.length];
      const shape = randomShape(1 + rng(4));
      const x = () => tensorOf(shape, c, 'float32');
      const pick = c % 8;
      await agree(() => {
        if (pick === 0) return op(x(), tensorOf(shape, c + 1000, 'float32'));
        if (pick === 1) return op(x(), tf.scalar(-0.75));
        if (pick === 2) return op(tf.scalar(1.25), x());
        if (pick === 3) return op(x(), tf.tensor([0.5], [1]));
        if (pick === 4) return op(tf.tensor([[3]], [1, 1]), tf.tensor([1, 2, 3], [3])); // rank raised
        if (pick === 5) {
          // Trailing dimensions either side (a bias); a size-1 middle axis goes to cpu.
          const tail = tensorOf(shape.slice(rng(shape.length)), c, 'float32');
          if (c % 3 === 0) return op(tail, x());
          if (c % 3 === 1) return op(x(), tail);
          return op(x(), tensorOf([1, ...shape.slice(1)], c, 'float32'));
        }
        if (pick === 6) return op(tensorOf(shape, c, 'int32'), tensorOf(shape, c + 1, 'int32'));
        // Zeros, infinities and NaN.
        return op(tf.tensor([0, -0, Infinity, NaN, 1]), tf.tensor([0, 2, -Infinity, 1, NaN]));
      });
    }
  });

  it('Sqrt, Step and LeakyRelu (leaky slopes): random shapes, zeros, negatives, infinities and NaN', async () => {
    const special = [0, -0, -1, 2, Infinity, -Infinity, NaN, 1e-40, -1e-40, -0.5, 3.5e38];
    for (let c = 0; c < 30; c++) {
      const shape = randomShape(1 + (c % 4));
      const alpha = [0.2, 0, -3, 0.1][c % 4];
      await agree(() => tf.sqrt(tf.abs(tensorOf(shape, c, 'float32'))));
      await agree(() => tf.step(tensorOf(shape, c, 'float32'), alpha));
      await agree(() => tf.sqrt(tf.tensor(special)));
      await agree(() => tf.step(tf.tensor(special), alpha));
      await agree(() => tf.leakyRelu(tensorOf(shape, c, 'float32'), alpha));
      await agree(() => tf.leakyRelu(tf.tensor(special), alpha));
    }
    // int32 input goes to cpu's kernel.
    await agree(() => tf.step(tensorOf([4, 3], 1, 'int32'), 0.5));
  });

  it('Sum over leading axes (bias gradients), keepDims, and the cases left to cpu', async () => {
    for (let c = 0; c < 40; c++) {
      const rank = 1 + (c % 4);
      const shape = randomShape(rank);
      const k = rng(rank + 1);
      const axes = Array.from({ length: k }, (_, i) => i);
      const keep = c % 3 === 0;
      await agree(() => tf.sum(tf.mul(tensorOf(shape, c, 'float32'), 1e3), axes, keep));
      await agree(() => tf.sum(tensorOf(shape, c, 'float32'), rank - 1)); // last axis: cpu
      await agree(() => tf.sum(tensorOf(shape, c, 'int32'), axes)); // int32: cpu
    }
    await agree(() =>
      tf.sum(
        tf.tensor([
          [0, -0],
          [-0, -0],
        ]),
        0,
      ),
    );
    await agree(() =>
      tf.sum(
        tf.tensor([
          [1, Infinity],
          [NaN, 2],
        ]),
        [0],
      ),
    );
    await agree(() => tf.sum(tf.zeros([0, 3]), 0));
  });
});
