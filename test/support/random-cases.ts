/**
 * Seeded random configurations for the randomized differential test: the public VBN ops at any
 * rank, axes, mode and offset, and the network at any strides, padding and layout. Each case is
 * plain JSON, so a failure can print it and `VBN_FUZZ_SEED` / `VBN_FUZZ_CASE` replay it.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  referenceBatchNorm,
  referenceStatistics,
  virtualBatchNorm,
  type VbnMode,
} from '../../src/core.js';
import {
  Tape,
  leaves,
  referenceBatchNorm64,
  valuesOf,
  virtualBatchNorm64,
} from '../../src/testing.js';
import { Random } from '../../src/util/random.js';
import { normals, type NetCase, type Values } from './contract.js';

export interface OpsCase {
  kind: 'ops';
  /** x `[..., B at batchAxis, ..., C at axis, ...]` and the reference with N at batchAxis. */
  xShape: number[];
  refShape: number[];
  axis: number;
  batchAxis: number;
  mode: VbnMode;
  stopReferenceGradient: boolean;
  /** gamma and beta given (else none). */
  affine: boolean;
  epsilon: number;
  /** Mean added to x and the reference (their spread stays about 1). */
  offset: number;
  seed: number;
}

export type RandomCase = OpsCase | (NetCase & { kind: 'net' });

const OFFSETS = [0, 0, 1, 100, 1e4];
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const pick = <T>(rng: Random, xs: readonly T[]): T => xs[rng.int(xs.length)];
const between = (rng: Random, lo: number, hi: number) => lo + rng.int(hi - lo + 1);

function opsCase(rng: Random, seed: number): OpsCase {
  const rank = between(rng, 2, 5);
  const batchAxis = rng.next() < 0.75 ? 0 : between(rng, 1, rank - 1);
  let axis = rng.next() < 0.5 ? rank - 1 : rng.int(rank);
  if (axis === batchAxis) axis = (batchAxis + 1) % rank;
  const mode = pick(rng, ['virtual', 'reference'] as const);
  const xShape = Array.from({ length: rank }, () => between(rng, 1, 4));
  const refShape = [...xShape];
  xShape[batchAxis] = between(rng, 1, 4);
  refShape[batchAxis] = between(rng, 1, 4);
  // At least two values per channel in the reference (one gives variance 0: out = d / sqrt(eps)).
  if (sizeOf(refShape) / refShape[axis] < 2) refShape[batchAxis] = 2;
  // Reference mode accepts any spatial shape: vary one now and then.
  if (mode === 'reference' && rank > 2 && rng.next() < 0.3) {
    const free = xShape.map((_, i) => i).filter((i) => i !== axis && i !== batchAxis);
    refShape[pick(rng, free)] = between(rng, 1, 4);
  }
  return {
    kind: 'ops',
    xShape,
    refShape,
    axis,
    batchAxis,
    mode,
    stopReferenceGradient: rng.next() < 0.3,
    affine: rng.next() < 0.7,
    epsilon: pick(rng, [1e-5, 1e-3]),
    offset: pick(rng, OFFSETS),
    seed,
  };
}

/** Output size of a convolution, or 0 where it has none. */
const outSize = (size: number, k: number, s: number, padding: 'valid' | 'same') =>
  padding === 'same' ? Math.ceil(size / s) : size >= k ? Math.floor((size - k) / s) + 1 : 0;

function netCase(rng: Random, seed: number): NetCase & { kind: 'net' } {
  for (;;) {
    const size = between(rng, 3, 8);
    const kernelSize = between(rng, 1, 3);
    const strides = between(rng, 1, 3);
    const padding = pick(rng, ['valid', 'same'] as const);
    const filters = Array.from({ length: between(rng, 1, 3) }, () => between(rng, 1, 4));
    let h = size;
    filters.forEach(() => (h = outSize(h, kernelSize, strides, padding)));
    const n = between(rng, 1, 4);
    // Every block has an output, and at least two reference values per channel.
    if (h < 1 || n * h * h < 2) continue;
    const channels = between(rng, 1, 3);
    // A 1x1 kernel on one channel before VBN is exactly scale-invariant: its gradient cancels to
    // rounding noise (no relative accuracy to check). Every kernel has at least two taps.
    const cins = [channels, ...filters.slice(0, -1)];
    if (kernelSize === 1 && cins.includes(1)) continue;
    const first = rng.next() < 0.3;
    return {
      kind: 'net',
      name: `random ${seed}`,
      config: {
        inputShape: first ? [channels, size, size] : [size, size, channels],
        dataFormat: first ? 'channelsFirst' : 'channelsLast',
        filters,
        kernelSize,
        strides,
        padding,
        numClasses: between(rng, 2, 3),
        mode: pick(rng, ['virtual', 'reference'] as const),
        epsilon: pick(rng, [1e-5, 1e-3]),
        stopReferenceGradient: rng.next() < 0.3,
      },
      strategy: pick(rng, ['concat', 'two-pass'] as const),
      n,
      b: between(rng, 1, 4),
      seed,
      // A network's first convolution sees the offset before any VBN: float32 convolution of
      // values near 1e4 keeps about 1e-3 of their unit spread in any framework. The ops take 1e4.
      offset: pick(rng, [0, 0, 1]),
    };
  }
}

/** Case `k` of the run with base seed `base`: about 60% ops, 40% network. */
export function randomCase(base: number, k: number): RandomCase {
  const seed = base + k;
  const rng = new Random(seed);
  return rng.next() < 0.6 ? opsCase(rng, seed) : netCase(rng, seed);
}

/** x, reference, gamma, beta and the projections U, V of the loss, as float32 values. */
function opsData(c: OpsCase) {
  const C = c.xShape[c.axis];
  const s = 1000 * c.seed;
  const shifted = (v: Float32Array) => v.map((e) => e + c.offset);
  return {
    x: shifted(normals(sizeOf(c.xShape), s + 1, 1.5)),
    ref: shifted(normals(sizeOf(c.refShape), s + 2)),
    gamma: normals(C, s + 3, 0.2).map((e) => 1 + e),
    beta: normals(C, s + 4),
    u: normals(sizeOf(c.xShape), s + 5),
    v: normals(sizeOf(c.refShape), s + 6),
  };
}

/**
 * L = sum(virtualBatchNorm(x) * U) + sum(referenceBatchNorm(R) * V) on the active backend:
 * both outputs and the gradient of L w.r.t. x, the reference, gamma and beta.
 */
export async function opsRun(c: OpsCase): Promise<Values> {
  const d = opsData(c);
  const x = tf.tensor(d.x, c.xShape);
  const ref = tf.tensor(d.ref, c.refShape);
  const gamma = tf.tensor1d(d.gamma);
  const beta = tf.tensor1d(d.beta);
  const [u, v] = [tf.tensor(d.u, c.xShape), tf.tensor(d.v, c.refShape)];
  const f = (x: tf.Tensor, r: tf.Tensor, g?: tf.Tensor, b?: tf.Tensor) => {
    const stats = referenceStatistics(r, {
      axis: c.axis,
      batchAxis: c.batchAxis,
      stopReferenceGradient: c.stopReferenceGradient,
    });
    const o = { gamma: g, beta: b, epsilon: c.epsilon };
    return [virtualBatchNorm(x, stats, { ...o, mode: c.mode }), referenceBatchNorm(r, stats, o)];
  };
  const loss = (...xs: tf.Tensor[]) => {
    const [y, r] = f(xs[0], xs[1], xs[2], xs[3]);
    return tf.add(tf.sum(tf.mul(y, u)), tf.sum(tf.mul(r, v)));
  };
  const wrt = c.affine ? [x, ref, gamma, beta] : [x, ref];
  const grads = tf.grads(loss)(wrt);
  const [y, r] = tf.tidy(() =>
    f(x, ref, c.affine ? gamma : undefined, c.affine ? beta : undefined),
  );
  const names = ['out', 'refOut', 'x', 'reference', 'gamma', 'beta'];
  const out: Values = {};
  for (const [i, t] of [y, r, ...grads].entries()) out[names[i]] = (await t.data()) as Float32Array;
  tf.dispose([x, ref, gamma, beta, u, v, y, r, ...grads]);
  return out;
}

/** The same quantities in float64 (src/oracle/vbn64.ts, written from the definition). */
export function opsOracle(c: OpsCase): Record<string, Float64Array> {
  const d = opsData(c);
  const t = new Tape();
  const x = leaves(t, c.xShape, d.x);
  const ref = leaves(t, c.refShape, d.ref);
  const gamma = leaves(t, [d.gamma.length], d.gamma);
  const beta = leaves(t, [d.beta.length], d.beta);
  const o = {
    mode: c.mode,
    axis: c.axis,
    batchAxis: c.batchAxis,
    epsilon: c.epsilon,
    stopReferenceGradient: c.stopReferenceGradient,
    gamma: c.affine ? gamma.ids : undefined,
    beta: c.affine ? beta.ids : undefined,
  };
  const y = virtualBatchNorm64(t, x, ref, o);
  const r = referenceBatchNorm64(t, ref, o);
  const g = t.backward([...y.ids, ...r.ids], [...d.u, ...d.v]);
  const grad = (ids: number[]) => Float64Array.from(ids, (id) => g[id]);
  const out: Record<string, Float64Array> = {
    out: valuesOf(t, y),
    refOut: valuesOf(t, r),
    x: grad(x.ids),
    reference: grad(ref.ids),
  };
  if (c.affine) Object.assign(out, { gamma: grad(gamma.ids), beta: grad(beta.ids) });
  return out;
}
