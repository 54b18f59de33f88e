import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { fusedKernelsAvailable } from '../../src/backend/fused-ops.js';
import { FUSED_KERNEL_NAMES } from '../../src/backend/kernel-names.js';
import { describeNative } from '../support/native-suite.js';

describeNative('the fused kernels of kernel-names.ts on the native backend', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('native registers every one (and a gradient for each forward one); cpu none', async () => {
    await useBackend('native');
    expect(fusedKernelsAvailable()).toBe(true);
    for (const name of FUSED_KERNEL_NAMES) expect(tf.getKernel(name, 'native'), name).toBeDefined();
    const forward = FUSED_KERNEL_NAMES.filter((n) => !n.endsWith('Grad') && n !== 'VbnLayerPool');
    for (const name of forward) expect(tf.getGradient(name), name).toBeDefined();
    await useBackend('cpu');
    expect(fusedKernelsAvailable()).toBe(false);
  });

  it('a backend that lacks one of them has no fused kernels available', async () => {
    await useBackend('native');
    const missing = FUSED_KERNEL_NAMES[FUSED_KERNEL_NAMES.length - 1];
    const config = tf.getKernel(missing, 'native')!;
    tf.unregisterKernel(missing, 'native');
    try {
      expect(fusedKernelsAvailable()).toBe(false);
    } finally {
      tf.registerKernel(config);
    }
    expect(fusedKernelsAvailable()).toBe(true);
  });
});
