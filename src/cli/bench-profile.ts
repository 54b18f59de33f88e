import * as tf from '@tensorflow/tfjs-core';

/**
 * Seconds of one profiled training step by pass. `vbn` counts the fused VBN kernels (the native
 * engine; on other backends VBN is composed of generic ops and lands in `other`); `other` is the
 * rest of the step: every other kernel and the JavaScript between kernels.
 */
export interface PassTimes {
  step: number;
  forward: number;
  backwardData: number;
  backwardWeights: number;
  vbn: number;
  other: number;
}

type Pass = Exclude<keyof PassTimes, 'step' | 'other'>;

export const PASS_OF_KERNEL: Readonly<Record<string, Pass>> = {
  Conv2D: 'forward',
  FusedConv2D: 'forward',
  Conv2DBackpropInput: 'backwardData',
  Conv2DBackpropFilter: 'backwardWeights',
  VbnStats: 'vbn',
  VbnStatsGrad: 'vbn',
  VbnNormalize: 'vbn',
  VbnNormalizeGrad: 'vbn',
  VbnLayer: 'vbn',
  VbnLayerGrad: 'vbn',
  VbnLayerPool: 'vbn',
  VbnLayerLeanGrad: 'vbn',
};

/** Runs `step` once under tf.profile and splits its wall time by pass. */
export async function profileStep(step: () => void): Promise<PassTimes> {
  const env = tf.env();
  const check = env.getBool('CHECK_COMPUTATION_FOR_ERRORS');
  env.set('CHECK_COMPUTATION_FOR_ERRORS', false); // it reads back every kernel's output
  try {
    let wallMs = 0;
    const info = await tf.profile(() => {
      const t0 = performance.now();
      step();
      wallMs = performance.now() - t0;
    });
    const out: PassTimes = {
      step: wallMs / 1000,
      forward: 0,
      backwardData: 0,
      backwardWeights: 0,
      vbn: 0,
      other: 0,
    };
    for (const k of info.kernels) {
      const pass = PASS_OF_KERNEL[k.name];
      if (pass && typeof k.kernelTimeMs === 'number') out[pass] += k.kernelTimeMs / 1000;
    }
    out.other = out.step - out.forward - out.backwardData - out.backwardWeights - out.vbn;
    return out;
  } finally {
    env.set('CHECK_COMPUTATION_FOR_ERRORS', check);
  }
}
