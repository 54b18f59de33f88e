import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../support/helpers.js';
import {
  VirtualBatchNormalization,
  referenceBatchNorm,
  referenceStatistics,
  virtualBatchNorm,
  virtualBatchNormConcatenated,
  type VbnMode,
} from 'vbn';

const message = errorMessage;

const ref = () => tf.zeros([4, 3, 3, 6]);
const good = () => referenceStatistics(tf.randomNormal([4, 3, 3, 6]));

describe('bad input gets a clear error naming the function, the rule and the shapes', () => {
  it('rank < 2', () => {
    expect(message(() => referenceStatistics(tf.zeros([5])))).toBe(
      'referenceStatistics: reference must have rank >= 2 (a batch axis and a channel axis) but has rank 1 (shape [5])',
    );
    expect(message(() => virtualBatchNorm(tf.zeros([5]), good()))).toMatch(
      /^virtualBatchNorm: x must have rank >= 2 .*shape \[5\]/,
    );
  });
  it('axis out of range', () => {
    expect(message(() => referenceStatistics(ref(), { axis: 4 }))).toBe(
      'referenceStatistics: axis 4 is out of range for rank 4 (expected an integer in [-4, 3], shape [4,3,3,6])',
    );
    expect(message(() => referenceStatistics(ref(), { axis: -5 }))).toMatch(
      /axis -5 is out of range/,
    );
    expect(message(() => referenceStatistics(ref(), { batchAxis: 7 }))).toMatch(
      /^referenceStatistics: batchAxis 7 is out of range for rank 4/,
    );
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 6]), good(), { axis: 1.5 }))).toMatch(
      /^virtualBatchNorm: axis 1.5 is out of range/,
    );
  });
  it('axis equal to batchAxis', () => {
    expect(message(() => referenceStatistics(ref(), { axis: 0 }))).toBe(
      'referenceStatistics: axis 0 and batchAxis 0 are the same axis 0; the channel axis must differ from the batch axis (shape [4,3,3,6])',
    );
    expect(message(() => referenceStatistics(ref(), { axis: -4, batchAxis: 0 }))).toMatch(
      /same axis 0/,
    );
  });
  it('channel count of x differs from the reference', () => {
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 5]), good()))).toBe(
      'virtualBatchNorm: channel axis 3 has 5 channels but the reference has 6 (x shape [2,3,3,5], reference shape [4,3,3,6])',
    );
  });
  it("virtual mode: an example's spatial shape differs from the reference's", () => {
    const stats = referenceStatistics(tf.randomNormal([4, 5, 5, 3]));
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 3]), stats))).toBe(
      "virtualBatchNorm: virtual mode needs each example's non-batch, non-channel shape to equal the reference's, but x has [3,3] and the reference [5,5] (x shape [2,3,3,3], reference shape [4,5,5,3]); mode 'reference' accepts any",
    );
    // channels first, time-major: the axes are matched by role, not by position
    const cf = referenceStatistics(tf.randomNormal([4, 3, 5, 5]), { axis: 1 });
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 5, 4]), cf))).toMatch(
      /x has \[5,4\] and the reference \[5,5\]/,
    );
    const tm = referenceStatistics(tf.randomNormal([6, 4, 2]), { axis: 2, batchAxis: 1 });
    expect(virtualBatchNorm(tf.randomNormal([6, 3, 2]), tm).shape).toEqual([6, 3, 2]);
    // reference mode normalizes any spatial shape with the reference's statistics
    const y = virtualBatchNorm(tf.ones([2, 3, 3, 3]), stats, { mode: 'reference' });
    expect(y.shape).toEqual([2, 3, 3, 3]);
  });
  it('x rank differs from the reference', () => {
    expect(message(() => virtualBatchNorm(tf.zeros([2, 6]), good()))).toMatch(
      /^virtualBatchNorm: x has rank 2 but the reference has rank 4 \(x shape \[2,6\], reference shape \[4,3,3,6\]\)/,
    );
  });
  it('empty reference', () => {
    expect(message(() => referenceStatistics(tf.zeros([0, 3, 3, 6])))).toBe(
      'referenceStatistics: the reference is empty (shape [0,3,3,6]); it needs at least one example with at least one value per channel',
    );
    expect(message(() => referenceStatistics(tf.zeros([4, 0, 3, 6])))).toMatch(
      /reference is empty/,
    );
  });
  it('non-float input', () => {
    expect(message(() => referenceStatistics(tf.zeros([4, 3], 'int32')))).toBe(
      'referenceStatistics: reference must be float32 but has dtype int32 (shape [4,3])',
    );
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 6], 'bool'), good()))).toMatch(
      /^virtualBatchNorm: x must be float32 but has dtype bool/,
    );
    expect(message(() => referenceStatistics([1, 2] as unknown as tf.Tensor))).toMatch(
      /reference must be a tf.Tensor/,
    );
  });
  it('gamma / beta of the wrong shape', () => {
    expect(
      message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 6]), good(), { gamma: tf.ones([5]) })),
    ).toBe('virtualBatchNorm: gamma must have shape [6] (one value per channel) but has shape [5]');
    expect(
      message(() => referenceBatchNorm(tf.zeros([4, 3, 3, 6]), good(), { beta: tf.ones([1, 6]) })),
    ).toBe(
      'referenceBatchNorm: beta must have shape [6] (one value per channel) but has shape [1,6]',
    );
  });
  it('unknown mode, bad epsilon', () => {
    expect(
      message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 6]), good(), { mode: 'batch' as VbnMode })),
    ).toBe("virtualBatchNorm: unknown mode \"batch\" (expected one of 'virtual', 'reference')");
    expect(message(() => virtualBatchNorm(tf.zeros([2, 3, 3, 6]), good(), { epsilon: -1 }))).toBe(
      'virtualBatchNorm: epsilon must be a positive finite number but is -1',
    );
  });
  it('concatenated layout: referenceSize larger than the batch', () => {
    expect(message(() => virtualBatchNormConcatenated(tf.zeros([3, 2]), 4))).toBe(
      'virtualBatchNormConcatenated: referenceSize 4 must be an integer in [1, 3] (the batch holds the reference in its first rows; x shape [3,2])',
    );
  });
  it('layer: bad referenceSize, mode, axis', () => {
    expect(message(() => new VirtualBatchNormalization({ referenceSize: 0 }))).toMatch(
      /^VirtualBatchNormalization: referenceSize must be a positive integer but is 0/,
    );
    expect(
      message(() => new VirtualBatchNormalization({ referenceSize: 2, mode: 'x' as VbnMode })),
    ).toMatch(/^VirtualBatchNormalization: unknown mode "x"/);
    const layer = new VirtualBatchNormalization({ referenceSize: 2, axis: 5 });
    expect(message(() => layer.apply(tf.zeros([3, 4])))).toMatch(
      /^VirtualBatchNormalization: axis 5 is out of range for input shape \[3,4\]/,
    );
  });
});
