import { convOut, type Padding } from '../model/config.js';
import type { MemoryNeed } from '../options/memory.js';

interface ClassifierShape {
  filters: number[];
  kernelSize: number;
  strides: number;
  padding: Padding;
  batchSize: number;
  referenceSize: number;
}

/**
 * A lower bound of what one training step of the classifier allocates, from its options and
 * one example's [H, W, C]: the batch and reference, each block's activations (forward and
 * gradient), and the weights with their gradients and two optimizer slots.
 */
export function classifierNeed(
  c: ClassifierShape,
  [height, width, channels]: readonly number[],
  numClasses = 2,
): MemoryNeed {
  const rows = c.batchSize + c.referenceSize;
  const input = rows * height * width * channels;
  let [h, w, cin] = [height, width, channels];
  let activations = 0;
  let params = 0;
  let largest = input;
  for (const f of c.filters) {
    [h, w] = [convOut(h, c), convOut(w, c)];
    if (h < 1 || w < 1) break; // createVbnNet refuses this with its own message
    const a = rows * h * w * f;
    const p = c.kernelSize * c.kernelSize * cin * f;
    activations += a;
    params += p + 2 * f;
    largest = Math.max(largest, a, p);
    cin = f;
  }
  params += cin * numClasses + numClasses;
  return { bytes: 4 * (input + 2 * activations + 4 * params), largest };
}
