import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { BACKEND_NAMES } from '../../src/backend/node/select.js';
import {
  VbnError,
  availableBackends,
  ganOptimizer,
  type Discriminator,
  type GanNetworks,
  type Generator,
} from 'vbn';

/** Deterministic float32-representable normal samples (mulberry32 + Box-Muller). */
export function randn(n: number, seed: number, mean = 0, std = 1): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
    out[i] = mean + std * r;
  }
  return out;
}

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A float32 tensor of normal samples and its exact values as float64. */
export function randomTensor(shape: number[], seed: number, mean = 0, std = 1) {
  const values = randn(size(shape), seed, mean, std);
  return { tensor: tf.tensor(values, shape, 'float32'), values: Float64Array.from(values), shape };
}

/** Relative error ||a-b||/||b||. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

const present = await availableBackends();

/**
 * Every backend that initializes here, native included. With VBN_REQUIRE_NATIVE=1 (CI) native is
 * listed even when it did not load, so that its suites fail with the reason instead of vanishing.
 */
export const BACKENDS = BACKEND_NAMES.filter(
  (b) => present.includes(b) || (b === 'native' && process.env.VBN_REQUIRE_NATIVE === '1'),
);

/** The message of the VbnError that f throws (fails when f throws nothing or something else). */
export function errorMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VbnError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** Two GanNetworks with the same initial weights (seed) and fresh Adam 1e-2 / 0.5 each. */
export function twinGanNets(
  g: Generator,
  d: Discriminator,
  seed: number,
): [GanNetworks, GanNetworks] {
  const nets = () => ({
    generator: g,
    discriminator: d,
    gParams: g.init(seed),
    dParams: d.init(seed + 1),
    gOptimizer: ganOptimizer(1e-2, 0.5),
    dOptimizer: ganOptimizer(1e-2, 0.5),
  });
  return [nets(), nets()];
}
