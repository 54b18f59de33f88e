import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GanAdam, ganOptimizer, learningRateAt } from 'vbn';

describe('the GAN learning-rate schedule', () => {
  it('learningRateAt: constant, then linear to base / (decay x total) at the last step', () => {
    const T = 200;
    expect(learningRateAt(1e-3, 0, T, 0)).toBe(1e-3);
    expect(learningRateAt(1e-3, T - 1, T, 0)).toBe(1e-3);
    // decay 0.25: constant for k <= 150, then (T - k) / 50.
    for (const k of [0, 99, 150]) expect(learningRateAt(1e-3, k, T, 0.25)).toBe(1e-3);
    expect(learningRateAt(1e-3, 151, T, 0.25)).toBeCloseTo((1e-3 * 49) / 50, 15);
    expect(learningRateAt(1e-3, 175, T, 0.25)).toBeCloseTo(1e-3 / 2, 15);
    expect(learningRateAt(1e-3, T - 1, T, 0.25)).toBeCloseTo(1e-3 / 50, 15);
    // decay 1: from the first step.
    expect(learningRateAt(2e-4, 100, T, 1)).toBeCloseTo(1e-4, 15);
  });

  it("GanAdam.setLearningRate sets the next update's size (Adam's first update is lr x g / (|g| + eps))", () => {
    const opt = ganOptimizer(1e-3, 0.5);
    expect(opt).toBeInstanceOf(GanAdam);
    opt.setLearningRate(2.5e-4);
    expect(opt.getLearningRate()).toBe(2.5e-4);
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const g = tf.tensor1d([0.5, -4, 2]);
    opt.applyGradients([{ name: v.name, tensor: g }]);
    const eps = tf.backend().epsilon();
    const expected = [1, -2, 3].map((x, i) => {
      const gi = [0.5, -4, 2][i];
      return x - (2.5e-4 * gi) / (Math.abs(gi) + eps);
    });
    const got = v.dataSync();
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 6));
    tf.dispose([v, g]);
    opt.dispose();
  });
});
