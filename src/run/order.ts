import { Random } from '../util/random.js';

/**
 * Order of the training examples in an epoch: a function of the seed and the epoch alone, so that
 * a resumed run meets the same batches as an uninterrupted one.
 */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new Random((seed * 7919 + epoch * 104729 + 1) >>> 0).shuffle(
    Array.from({ length: n }, (_, i) => i),
  );
}
