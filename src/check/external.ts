import { VbnError, shapeString } from '../errors.js';
import type { ParamValues } from './float64.js';

/** Plain float32 values with a shape, e.g. logits [B, K] or an activation [B, H, W, C]. */
export interface Values {
  shape: number[];
  values: Float32Array;
}

/** Logits and named activations of one forward call. */
export interface ForwardResult {
  logits: Values;
  activations: Record<string, Values>;
}

/** Logits computed in the same call as the gradients of the check's loss. */
export interface GradientResult {
  logits: Values;
  /** Gradient of the mean softmax cross-entropy w.r.t. every parameter and 'reference'. */
  grads: Record<string, Values>;
}

/**
 * An implementation that runs outside TensorFlow.js (a Python framework, or any program that
 * speaks docs/check-protocol.md) and differentiates itself. Tensors cross as plain values in vbn's
 * layout: images as the network takes them, conv kernels [k, k, Cin, F], dense/kernel [F, K].
 */
export interface ExternalImplementation {
  name: string;
  /** Framework, version and device, e.g. 'torch 2.13.0 cpu' or 'tensorflow 2.21.0 cpu XLA'. */
  runtime: string;
  /** Logits [B, K] of `inputs` [B, ...] against `reference` [N, ...]; activations when asked. */
  forward(
    params: Record<string, ParamValues>,
    reference: Values,
    inputs: Values,
    activations: boolean,
  ): Promise<ForwardResult>;
  /** Logits and loss gradients for integer `labels` [B]. */
  gradients(
    params: Record<string, ParamValues>,
    reference: Values,
    inputs: Values,
    labels: Int32Array,
  ): Promise<GradientResult>;
  /** Stops whatever runs the implementation; safe to call twice. */
  close(): Promise<void>;
}

/** A plain array as the protocol carries it. */
export interface WireArray {
  dtype: string;
  shape: number[];
  values: Float32Array | Float64Array;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Checks an array an implementation returned: float32, the expected shape, finite values.
 * `what` names it in the message, e.g. "logits" or "the gradient of 'dense/bias'".
 */
export function checkReturned(
  owner: string,
  what: string,
  a: WireArray | undefined,
  expected: readonly number[],
  hint = '',
): Values {
  if (a === undefined) throw new VbnError(`${owner}: returned no ${what}`);
  if (a.dtype !== 'float32') {
    throw new VbnError(`${owner}: returned ${what} of dtype ${a.dtype} but expected float32`);
  }
  if (shapeString(a.shape) !== shapeString(expected)) {
    throw new VbnError(
      `${owner}: returned ${what} of shape ${shapeString(a.shape)} but expected ${shapeString(expected)}${hint}`,
    );
  }
  if (a.values.length !== size(expected)) {
    throw new VbnError(
      `${owner}: returned ${what} of shape ${shapeString(a.shape)} with ${a.values.length} values (expected ${size(expected)})`,
    );
  }
  let bad = 0;
  for (const v of a.values) if (!Number.isFinite(v)) bad++;
  if (bad > 0) {
    throw new VbnError(
      `${owner}: returned ${what} with ${bad} of ${a.values.length} values NaN or infinite`,
    );
  }
  return { shape: [...a.shape], values: Float32Array.from(a.values) };
}

/**
 * Why logits can have the wrong number of rows: the seed's `shape[0] // 2` split of
 * [reference; inputs] gives (N + B) // 2 rows, which is B only when B = N.
 */
export function splitHint(rows: number, n: number, b: number): string {
  if (rows === b || rows !== Math.floor((n + b) / 2)) return '';
  return `; ${rows} = (N + B) // 2 with reference N = ${n} and batch B = ${b}: the implementation splits [reference; inputs] at shape[0] // 2, which is right only when B = N (split at the reference size N instead)`;
}
