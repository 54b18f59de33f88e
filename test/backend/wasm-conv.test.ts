import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { randn, relErr, size } from '../support/helpers.js';

/**
 * The wasm backend's convolution gradients are ours (composed from wasm kernels as forward
 * convolutions): each against the cpu backend's kernels on randomized shapes.
 */
describe('wasm Conv2DBackpropFilter and Conv2DBackpropInput against cpu', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  let s = 777;
  const rng = (n: number) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % n;
  };
  const cases = Array.from({ length: 16 }, (_, i) => {
    const k = [1, 2, 3, 5][rng(4)];
    return {
      b: i === 0 ? 1 : 1 + rng(3),
      h: k + rng(10),
      w: k + rng(10),
      ci: [1, 2, 3, 8][rng(4)],
      co: [1, 3, 8][rng(3)],
      k,
      stride: 1 + rng(3),
      pad: (rng(2) ? 'same' : 'valid') as 'same' | 'valid',
    };
  });
  for (const c of cases) {
    it(JSON.stringify(c), async () => {
      const run = async (backend: 'cpu' | 'wasm') => {
        await useBackend(backend);
        return tf.tidy(() => {
          const x = tf.tensor(randn(size([c.b, c.h, c.w, c.ci]), 1), [
            c.b,
            c.h,
            c.w,
            c.ci,
          ]) as tf.Tensor4D;
          const f = tf.tensor(randn(size([c.k, c.k, c.ci, c.co]), 2), [
            c.k,
            c.k,
            c.ci,
            c.co,
          ]) as tf.Tensor4D;
          const y = tf.conv2d(x, f, c.stride, c.pad);
          const dy = tf.tensor(randn(y.size, 3), y.shape);
          const dw = tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x, dy },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: f.shape },
            ) as tf.Tensor;
          const dx = tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy, filter: f },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape },
            ) as tf.Tensor;
          return [dw.dataSync().slice(), dx.dataSync().slice()];
        });
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      expect(relErr(wasm[0], cpu[0]), 'Conv2DBackpropFilter').toBeLessThan(1e-5);
      expect(relErr(wasm[1], cpu[1]), 'Conv2DBackpropInput').toBeLessThan(1e-5);
    });
  }
});

describe("wasm Conv2D with 'same' padding where the stride exceeds the kernel", () => {
  // XNNPACK's unsigned total padding wraps around there (src/backend/wasm-same-padding.ts).
  it('equals cpu for every size 2..9, kernel 1..3, stride 1..4 (3x3 input, 2x2 kernel, stride 3 gave zeros)', async () => {
    const bad: string[] = [];
    for (let h = 2; h <= 9; h++) {
      for (let k = 1; k <= 3; k++) {
        for (let s = 1; s <= 4; s++) {
          const x = randn(2 * h * (h + 1) * 2, h + 10 * k + 100 * s);
          const w = randn(k * k * 2 * 3, 7);
          const run = async (backend: 'cpu' | 'wasm') => {
            await useBackend(backend);
            return tf.tidy(() =>
              tf
                .conv2d(tf.tensor4d(x, [2, h, h + 1, 2]), tf.tensor4d(w, [k, k, 2, 3]), s, 'same')
                .dataSync()
                .slice(),
            );
          };
          const [want, got] = [await run('cpu'), await run('wasm')];
          if (!(relErr(got, want) < 1e-5)) bad.push(`h ${h} k ${k} s ${s}`);
        }
      }
    }
    await useBackend('cpu');
    expect(bad).toEqual([]);
  });
});
