import * as tf from '@tensorflow/tfjs-core';
import { registerFusedGradients } from '../fused-ops.js';
import { loopKernels } from '../loop-kernels.js';
import { checkIntegerIn } from '../../vbn/validate.js';
import { addonProblem, loadAddon } from './addon.js';
import type { NativeAddon } from './addon-spec.js';
import { orFallback, type KernelFunc } from './kernel-util.js';
import { elementwiseKernels } from './elementwise-kernels.js';
import { allocateOutput, NativeBackend } from './memory.js';
import { onednnKernels } from './onednn-kernels.js';
import { vbnKernels } from './vbn-kernels.js';

/**
 * The `native` backend: TensorFlow.js' cpu backend (same tensor storage: typed arrays) with the
 * hot kernels replaced by oneDNN (convolutions, matrix products) and fused VBN kernels, through a
 * Node-API addon. Tensor data goes to C++ without copies.
 */

/** The most OpenMP threads the engine takes (the addon refuses more). */
export const MAX_THREADS = 256;

/**
 * Every kernel the native backend has in place of the cpu backend's: the one place a kernel is
 * registered (later tables win: the engine's element-wise kernels over the loop ones).
 */
function nativeKernels(a: NativeAddon): Record<string, KernelFunc> {
  const loops = Object.entries(loopKernels(allocateOutput)).map(([name, loop]) => [
    name,
    orFallback(name, loop),
  ]);
  return {
    ...Object.fromEntries(loops),
    ...vbnKernels(a),
    ...onednnKernels(a),
    ...elementwiseKernels(a, allocateOutput),
  };
}

let registered = false;

/**
 * Registers the `native` backend; null when ready, else the reason it cannot be used.
 * `threads` sets oneDNN/OpenMP threads (default: OMP_NUM_THREADS or all cores).
 */
export async function registerNativeBackend(threads?: number): Promise<string | null> {
  if (threads !== undefined) {
    checkIntegerIn('useBackend', 'threads', threads, 1, MAX_THREADS, 'native engine threads');
  }
  const a = loadAddon();
  if (!a) return addonProblem();
  if (threads) a.setThreads({ n: threads });
  if (registered) return null;
  // Large tensors are reused from malloc's heap instead of page-faulting afresh every step.
  a.keepFreedMemory();
  tf.registerBackend('native', () => new NativeBackend(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({ ...k, backendName: 'native' });
  }
  for (const [kernelName, kernelFunc] of Object.entries(nativeKernels(a))) {
    if (tf.getKernel(kernelName, 'native')) tf.unregisterKernel(kernelName, 'native');
    tf.registerKernel({
      kernelName,
      backendName: 'native',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
  registerFusedGradients();
  registered = true;
  return null;
}
