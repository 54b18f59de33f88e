import * as tf from '@tensorflow/tfjs-core';
import { shapeString } from '../errors.js';

/** Values to compare: a tensor, or plain numbers with a shape. */
export type Comparable =
  tf.Tensor | { shape: readonly number[]; values: ArrayLike<number>; dtype?: string };

/** How close two computations must be. Unset measures are not checked. */
export interface Tolerance {
  /** Bound on ||a - b|| / ||b|| (b is the reference side). */
  relNorm?: number;
  /** Bound on max |a - b|. */
  maxAbs?: number;
  /** Require every value to be bitwise identical (NaN equals NaN). */
  bitwise?: boolean;
}

/** The result of comparing one stage of two computations. */
export interface Agreement {
  /** What was compared, e.g. 'logits' or 'gradient conv1/kernel'. */
  stage: string;
  ok: boolean;
  shapeA: number[];
  shapeB: number[];
  /** max |a - b|. */
  maxAbs: number;
  /** max |a - b| / max(|b|, tiny). */
  maxRel: number;
  /** ||a - b|| / ||b|| (0 when both are zero). */
  relNorm: number;
  /** Number of values that differ bitwise. */
  differing: number;
  tolerance: Tolerance;
  /** One line: the stage, the measure that failed and its bound, or 'agree'. */
  message: string;
}

function read(c: Comparable): { shape: number[]; values: ArrayLike<number>; dtype: string } {
  if (c instanceof tf.Tensor) {
    return { shape: [...c.shape], values: c.dataSync() as ArrayLike<number>, dtype: c.dtype };
  }
  return { shape: [...c.shape], values: c.values, dtype: c.dtype ?? 'float' };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function sameBits(a: number, b: number, float32: boolean): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (!float32) return Object.is(a, b);
  f32[0] = a;
  const x = u32[0];
  f32[0] = b;
  return x === u32[0];
}

/**
 * Compares `a` against the reference `b` for one named stage. Shapes must match exactly;
 * NaN or Infinity on either side fails any numeric bound.
 */
export function compare(
  stage: string,
  a: Comparable,
  b: Comparable,
  tolerance: Tolerance,
): Agreement {
  const A = read(a);
  const B = read(b);
  const base = {
    stage,
    shapeA: A.shape,
    shapeB: B.shape,
    tolerance,
  };
  if (A.shape.join(',') !== B.shape.join(',')) {
    return {
      ...base,
      ok: false,
      maxAbs: Infinity,
      maxRel: Infinity,
      relNorm: Infinity,
      differing: Math.max(A.values.length, B.values.length),
      message: `${stage}: shapes differ: ${shapeString(A.shape)} vs ${shapeString(B.shape)}`,
    };
  }
  let maxAbs = 0;
  let maxRel = 0;
  let num = 0;
  let den = 0;
  let differing = 0;
  let nonFinite = false;
  const float32 = A.dtype === 'float32' && B.dtype === 'float32';
  for (let i = 0; i < A.values.length; i++) {
    const x = A.values[i];
    const y = B.values[i];
    if (!sameBits(x, y, float32)) differing++;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) nonFinite = true;
      continue;
    }
    const d = Math.abs(x - y);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(y), 1e-30));
    num += d * d;
    den += y * y;
  }
  const relNorm = num === 0 ? 0 : den === 0 ? Infinity : Math.sqrt(num / den);
  const failures: string[] = [];
  if (nonFinite) failures.push('non-finite values on one side only');
  if (tolerance.bitwise && differing > 0) {
    failures.push(
      `${differing} of ${A.values.length} values differ bitwise (max |a-b| ${maxAbs.toExponential(2)})`,
    );
  }
  if (tolerance.relNorm !== undefined && !(relNorm <= tolerance.relNorm)) {
    failures.push(
      `||a-b||/||b|| = ${relNorm.toExponential(2)} > ${tolerance.relNorm.toExponential(1)}`,
    );
  }
  if (tolerance.maxAbs !== undefined && !(maxAbs <= tolerance.maxAbs)) {
    failures.push(`max |a-b| = ${maxAbs.toExponential(2)} > ${tolerance.maxAbs.toExponential(1)}`);
  }
  const ok = failures.length === 0;
  return {
    ...base,
    ok,
    maxAbs,
    maxRel,
    relNorm,
    differing,
    message: ok
      ? `${stage}: agree (||a-b||/||b|| ${relNorm.toExponential(2)}, max |a-b| ${maxAbs.toExponential(2)})`
      : `${stage}: ${failures.join('; ')}`,
  };
}

/** Thrown by assertAgree; carries the failed comparison. */
export class DisagreementError extends Error {
  constructor(readonly agreement: Agreement) {
    super(agreement.message);
    this.name = 'DisagreementError';
  }
}

/** compare() that throws a DisagreementError naming the stage when the two disagree. */
export function assertAgree(
  stage: string,
  a: Comparable,
  b: Comparable,
  tolerance: Tolerance,
): Agreement {
  const r = compare(stage, a, b, tolerance);
  if (!r.ok) throw new DisagreementError(r);
  return r;
}

/** Named per-parameter values flattened into one vector, in the order of `names`. */
export const flat = (
  names: readonly string[],
  g: Record<string, ArrayLike<number>>,
): Float64Array => Float64Array.from(names.flatMap((n) => Array.from(g[n])));
