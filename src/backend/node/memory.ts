import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataId } from '@tensorflow/tfjs-core';
import { Buffer, constants } from 'node:buffer';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OutputPool } from '../output-pool.js';

/**
 * The native backend's memory policy.
 *
 * Large outputs: a disposed tensor's Float32Array goes back to malloc only when V8 collects it,
 * and V8 schedules collections by its own heap, where such an array is a few bytes: at the seed
 * scale a training step frees several GB, and the next large tensors were allocated beside the
 * dead ones (the peak RSS 2-3 GB above the live tensors). So a large allocation that the dead
 * arrays could hold runs a collection first (milliseconds: the JS heap is small), and malloc
 * reuses their memory (the addon's keepFreedMemory keeps it in the heap).
 *
 * Smaller outputs (the GAN's: a step makes hundreds of 10 kB-2 MB tensors): every new array
 * counts as V8 external memory, and V8 collects after each few tens of MB of it (a full
 * collection every few steps' worth of kernels). An array the engine made for a kernel's output
 * goes back to an OutputPool when its tensor is disposed, so the next output of that length
 * takes it instead of a new one; output-pool.ts says when an array may be reused.
 */

/** Allocations from this size on may first collect the arrays disposed since the last collection. */
const LARGE_BYTES = 32 * 2 ** 20;

/** Outputs below LARGE_BYTES are reused from here. */
const pool = new OutputPool(LARGE_BYTES / 4, 256 * 2 ** 20);

/** V8's full collection (`--expose-gc` set at run time), or null where that is refused. */
const collectGarbage: (() => void) | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
})();

/** Bytes of float32 tensor data disposed since V8's last collection run from here. */
let disposedBytes = 0;

/** A zeroed Float32Array of n elements for a kernel's output. */
export function allocate(n: number): Float32Array {
  return pool.take(n) ?? fresh(n, true);
}

/**
 * A Float32Array of n elements for an output the kernel writes in full: its values are undefined
 * (a reused array as its last tensor left it, or a large one without zeroing: calloc's memset of
 * reused heap memory costs about 40 ms a GB, a pass over memory the kernel then repeats).
 */
export function allocateOutput(n: number): Float32Array {
  return pool.take(n, false) ?? fresh(n, false);
}

function fresh(n: number, zeroed: boolean): Float32Array {
  const bytes = 4 * n;
  if (bytes < LARGE_BYTES) return pool.track(new Float32Array(n));
  if (collectGarbage && disposedBytes >= bytes) {
    disposedBytes = 0;
    collectGarbage();
    collectGarbage(); // the first one's array buffers are freed (swept) when the second starts
  }
  if (zeroed || bytes > constants.MAX_LENGTH) return pool.track(new Float32Array(n));
  return pool.track(new Float32Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, n));
}

/**
 * Whether a kernel may write over `values`, the data of a tensor it is given to consume: an
 * output of the engine that nothing else can see (never the caller's array, one read out by
 * dataSync, or one another tensor views).
 */
export function mayOverwrite(values: Float32Array): boolean {
  return pool.isPrivate(values);
}

/**
 * The cpu backend, telling the pool which arrays became a tensor's data, which were read out
 * (dataSync, data, arraySync: the caller may keep them) and which tensors were disposed, and
 * counting the float32 bytes it disposes (for allocate).
 */
export class NativeBackend extends MathBackendCPU {
  override write(values: Parameters<MathBackendCPU['write']>[0], ...rest: WriteRest): DataId {
    pool.held(values);
    return super.write(values, ...rest);
  }

  override move(dataId: DataId, values: Parameters<MathBackendCPU['move']>[1], ...rest: MoveRest) {
    pool.held(values);
    super.move(dataId, values, ...rest);
  }

  override readSync(dataId: DataId): ReturnType<MathBackendCPU['readSync']> {
    const stored = this.data.get(dataId)?.values;
    if (stored) pool.escaped(stored);
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const removed = super.disposeData(dataId, force) && !this.data.has(dataId);
    if (removed && values instanceof Float32Array && !pool.give(values)) {
      disposedBytes += values.byteLength;
    }
    return removed;
  }
}

type WriteRest = Parameters<MathBackendCPU['write']> extends [unknown, ...infer R] ? R : never;
type MoveRest =
  Parameters<MathBackendCPU['move']> extends [unknown, unknown, ...infer R] ? R : never;
