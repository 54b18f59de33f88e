import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The native backend's memory policy. A disposed tensor's Float32Array goes back to malloc only
 * when V8 collects it, and V8 schedules collections by its own heap, where such an array is a few
 * bytes: at the seed scale a training step frees several GB, and the next large tensors were
 * allocated beside the dead ones (the peak RSS 2-3 GB above the live tensors). So a large
 * allocation that the dead arrays could hold runs a collection first (milliseconds: the JS heap
 * is small), and malloc reuses their memory (the addon's keepFreedMemory keeps it in the heap).
 */

/** Allocations from this size on may first collect the arrays disposed since the last collection. */
const LARGE_BYTES = 32 * 2 ** 20;

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
  const bytes = 4 * n;
  if (collectGarbage && bytes >= LARGE_BYTES && disposedBytes >= bytes) {
    disposedBytes = 0;
    collectGarbage();
    collectGarbage(); // the first one's array buffers are freed (swept) when the second starts
  }
  return new Float32Array(n);
}

/** The cpu backend, counting the float32 bytes it disposes (for allocate). */
export class NativeBackend extends MathBackendCPU {
  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const removed = super.disposeData(dataId, force) && !this.data.has(dataId);
    if (removed && values instanceof Float32Array) disposedBytes += values.byteLength;
    return removed;
  }
}
