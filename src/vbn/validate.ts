import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';

/** Shared checks for the VBN functions; each message names the function, the rule and the shapes. */

const FLOAT_DTYPES = new Set(['float32']);

export function checkFloat(fn: string, name: string, t: tf.Tensor): void {
  if (!(t instanceof tf.Tensor)) {
    throw new VbnError(`${fn}: ${name} must be a tf.Tensor but is ${typeof t}`);
  }
  if (!FLOAT_DTYPES.has(t.dtype)) {
    throw new VbnError(
      `${fn}: ${name} must be float32 but has dtype ${t.dtype} (shape ${shapeString(t.shape)})`,
    );
  }
}

export function checkRank(fn: string, name: string, t: tf.Tensor, minRank = 2): void {
  if (t.rank < minRank) {
    throw new VbnError(
      `${fn}: ${name} must have rank >= ${minRank} (a batch axis and a channel axis) but has rank ${t.rank} (shape ${shapeString(t.shape)})`,
    );
  }
}

/** Resolves a possibly negative axis against a rank; throws when out of range. */
export function resolveAxis(
  fn: string,
  optionName: string,
  axis: number,
  rank: number,
  shape: readonly number[],
): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new VbnError(
      `${fn}: ${optionName} ${axis} is out of range for rank ${rank} (expected an integer in [${-rank}, ${rank - 1}], shape ${shapeString(shape)})`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves channel and batch axes together and checks that they differ. */
export function resolveAxes(
  fn: string,
  axis: number,
  batchAxis: number,
  t: tf.Tensor,
): { axis: number; batchAxis: number } {
  const a = resolveAxis(fn, 'axis', axis, t.rank, t.shape);
  const b = resolveAxis(fn, 'batchAxis', batchAxis, t.rank, t.shape);
  if (a === b) {
    throw new VbnError(
      `${fn}: axis ${axis} and batchAxis ${batchAxis} are the same axis ${a}; the channel axis must differ from the batch axis (shape ${shapeString(t.shape)})`,
    );
  }
  return { axis: a, batchAxis: b };
}

/** Checks a per-channel parameter (gamma or beta) has shape [C]. */
export function checkPerChannel(
  fn: string,
  name: string,
  t: tf.Tensor | undefined,
  channels: number,
): void {
  if (t === undefined) return;
  checkVector(fn, name, t, channels, 'one value per channel');
}

/** Checks a float32 tensor of shape [length]; `meaning` says what each value is for. */
export function checkVector(
  fn: string,
  name: string,
  t: tf.Tensor,
  length: number,
  meaning: string,
): void {
  checkFloat(fn, name, t);
  if (t.rank !== 1 || t.shape[0] !== length) {
    throw new VbnError(
      `${fn}: ${name} must have shape [${length}] (${meaning}) but has shape ${shapeString(t.shape)}`,
    );
  }
}

/** Checks that a tensor has at least one value (every axis non-empty). */
export function checkNonEmpty(fn: string, name: string, t: tf.Tensor): void {
  if (t.size === 0) {
    throw new VbnError(`${fn}: ${name} is empty (shape ${shapeString(t.shape)})`);
  }
}

/** Checks an integer in [lo, hi]; `context` (e.g. `x shape [4,3]`) says where the bounds come from. */
export function checkIntegerIn(
  fn: string,
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  context: string,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new VbnError(
      `${fn}: ${name} ${String(value)} is out of range (expected an integer in [${lo}, ${hi}], ${context})`,
    );
  }
  return value;
}

export function checkBoolean(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new VbnError(`${fn}: ${name} must be true or false but is ${String(value)}`);
  }
  return value;
}

export function checkOneOf<T extends string>(
  fn: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new VbnError(
      `${fn}: unknown ${name} ${JSON.stringify(value)} (expected one of ${allowed.map((a) => `'${a}'`).join(', ')})`,
    );
  }
  return value as T;
}

export function checkPositive(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new VbnError(`${fn}: ${name} must be a positive finite number but is ${String(value)}`);
  }
  return value;
}

export function checkNonNegative(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new VbnError(`${fn}: ${name} must be a finite number >= 0 but is ${String(value)}`);
  }
  return value;
}
