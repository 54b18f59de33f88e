import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { ganOptimizer, useBackend } from 'vbn';
import { randn } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * GanAdam's fused update on the native backend (one AdamUpdate kernel per variable) must leave
 * the same bits as tf.AdamOptimizer's own update on the cpu backend: weights, both moments, the
 * saved optimizer weights, over several steps with gradients that hold zeros, tiny, huge and
 * non-finite values; a variable without a gradient is left alone, as tf.js leaves it.
 */

const SHAPES = [[5000], [3, 4, 8, 16], [1], [64, 65]];
const SPECIAL = [0, -0, 1e-30, -1e-30, 1e30, -1e30, 3.4e38, Infinity, NaN];

function gradient(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = randn(n, seed);
  for (let i = 0; i < n; i += 97) v[i] = SPECIAL[(i + seed) % SPECIAL.length];
  return tf.tensor(v, shape);
}

interface Run {
  weights: number[][];
  saved: number[][];
  kernels: string[];
  /** Tensors alive after each step. */
  counts: number[];
}

async function train(backend: 'cpu' | 'native', fused: boolean): Promise<Run> {
  await useBackend(backend);
  const vars = SHAPES.map((s, i) =>
    tf.variable(
      tf.tensor(
        randn(
          s.reduce((a, b) => a * b, 1),
          50 + i,
        ),
        s,
      ),
    ),
  );
  const opt = fused ? ganOptimizer(1e-3, 0.5) : tf.train.adam(1e-3, 0.5, 0.999);
  const kernels = new Set<string>();
  const counts: number[] = [];
  for (let step = 0; step < 4; step++) {
    const grads = vars.map((v, i) => ({ name: v.name, tensor: gradient(v.shape, 10 * step + i) }));
    // The last variable gets no gradient in step 2.
    const given = step === 2 ? grads.slice(0, -1) : grads;
    const p = await tf.profile(() => opt.applyGradients(given));
    p.kernelNames.forEach((k) => kernels.add(k));
    tf.dispose(grads.map((g) => g.tensor));
    counts.push(tf.memory().numTensors);
  }
  const saved = await opt.getWeights();
  const run = {
    weights: vars.map((v) => Array.from(v.dataSync())),
    saved: saved.map((w) => Array.from(w.tensor.dataSync())),
    kernels: [...kernels],
    counts,
  };
  opt.dispose();
  tf.dispose(vars);
  return run;
}

const sameBits = (a: number[][], b: number[][]) =>
  a.length === b.length &&
  a.every((x, i) => x.length === b[i].length && x.every((v, j) => Object.is(v, b[i][j])));

describeNative('GanAdam: the fused AdamUpdate kernel against tf.AdamOptimizer', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('the same weights and moments, bit for bit, over 4 steps, special values and a missing gradient', async () => {
    const cpu = await train('cpu', false);
    const native = await train('native', true);
    expect(native.kernels).toContain('AdamUpdate');
    expect(cpu.kernels).not.toContain('AdamUpdate');
    expect(native.saved.length).toBe(cpu.saved.length); // iterations, then m and v per variable
    expect(sameBits(native.saved, cpu.saved)).toBe(true);
    expect(sameBits(native.weights, cpu.weights)).toBe(true);
    // Moments and weights moved, and the special values made some of them non-finite.
    expect(native.weights[0].some((v) => Number.isNaN(v))).toBe(true);
  });

  it('GanAdam on cpu (no kernel there) is tf.AdamOptimizer, and the fused update leaks no tensors', async () => {
    const plain = await train('cpu', false);
    const gan = await train('cpu', true);
    expect(gan.kernels).not.toContain('AdamUpdate');
    expect(sameBits(gan.weights, plain.weights)).toBe(true);
    // The first step creates both moments of each variable; the next ones add no tensor.
    const { counts } = await train('native', true);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });
});
