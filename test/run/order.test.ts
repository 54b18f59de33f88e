import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochOrder } from '../../src/run/order.js';

/**
 * The data order written out from its definition, independently of src/util/random.ts:
 * mulberry32 (Tommy Ettinger's published generator) seeded with seed*7919 + epoch*104729 + 1
 * (mod 2^32), driving a Fisher-Yates shuffle from the last position down.
 */
function referenceOrder(n: number, seed: number, epoch: number): number[] {
  let a = (seed * 7919 + epoch * 104729 + 1) >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('epochOrder', () => {
  it('is the seeded mulberry32 Fisher-Yates permutation of 0..n-1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 500 }),
        (n, seed, epoch) => {
          const order = epochOrder(n, seed, epoch);
          expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(order).toEqual(referenceOrder(n, seed, epoch));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('changes from epoch to epoch and from seed to seed', () => {
    const base = epochOrder(100, 3, 0);
    expect(epochOrder(100, 3, 1)).not.toEqual(base);
    expect(epochOrder(100, 4, 0)).not.toEqual(base);
    expect(epochOrder(100, 3, 0)).toEqual(base);
  });
});
