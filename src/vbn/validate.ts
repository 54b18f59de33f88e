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
    throw new VbnError(unknownMessage(fn, name, value, allowed));
  }
  return value as T;
}

function unknownMessage(fn: string, name: string, value: unknown, allowed: readonly unknown[]) {
  return `${fn}: unknown ${name} ${JSON.stringify(value)} (expected one of ${allowed.map((a) => `'${String(a)}'`).join(', ')})`;
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

/**
 * A rule a value must meet, shared by the library and the command line so that both say the
 * same thing: `fn: name must be <expected> but is <value>`, and commander's `argument 'v' is
 * invalid. expected <syntax or expected>.` for a flag.
 */
export interface Rule<T> {
  /** What a valid value is, e.g. 'an integer >= 1'. */
  readonly expected: string;
  /** How a command-line value is written, when it differs from `expected`. */
  readonly syntax?: string;
  /** The value when it meets the rule, else undefined. */
  accept(value: unknown): T | undefined;
  /** Reads a command-line string (undefined when it cannot be read). */
  read(text: string): T | undefined;
  /** The library's message, when the rule has its own (checkOneOf's). */
  refuse?(fn: string, name: string, value: unknown): string;
}

const show = (v: unknown): string => (Array.isArray(v) ? `[${v.join(',')}]` : String(v));

/** Checks `value` against `rule`; throws `fn: name must be <expected> but is <value>`. */
export function checkRule<T>(fn: string, name: string, value: unknown, rule: Rule<T>): T {
  const v = rule.accept(value);
  if (v === undefined) {
    throw new VbnError(
      rule.refuse?.(fn, name, value) ??
        `${fn}: ${name} must be ${rule.expected} but is ${show(value)}`,
    );
  }
  return v;
}

const readNumber = (text: string): number | undefined =>
  text.trim() === '' ? undefined : Number(text);

/** A finite number that meets `test`. */
function numberRule(expected: string, test: (v: number) => boolean): Rule<number> {
  const accept = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) && test(v) ? v : undefined;
  return { expected, accept, read: (t) => accept(readNumber(t)) };
}

export function intRule(min: number): Rule<number> {
  const accept = (v: unknown) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : undefined;
  return {
    expected: `an integer >= ${min}`,
    accept,
    read: (t) => (/^-?\d+$/.test(t.trim()) ? accept(Number(t)) : undefined),
  };
}

export const POSITIVE = numberRule('a positive finite number', (v) => v > 0);
export const NON_NEGATIVE = numberRule('a number >= 0', (v) => v >= 0);
/** [0, 1]. */
export const UNIT_INTERVAL = numberRule('a number from 0 to 1', (v) => v >= 0 && v <= 1);
/** [0, 1). */
export const BELOW_ONE = numberRule('a number in [0, 1)', (v) => v >= 0 && v < 1);
/** (0, 1). */
export const OPEN_FRACTION = numberRule(
  'a number between 0 and 1 (exclusive)',
  (v) => v > 0 && v < 1,
);

/** A non-empty list of positive integers, written `16,32,64` on the command line. */
export const INT_LIST: Rule<number[]> = {
  expected: 'a non-empty list of integers >= 1',
  syntax: 'a comma list of positive integers, like 16,32,64',
  accept: (v) =>
    Array.isArray(v) && v.length > 0 && v.every((f) => intRule(1).accept(f) !== undefined)
      ? [...(v as number[])]
      : undefined,
  read: (t) => INT_LIST.accept(t.split(',').map((s) => (/^\d+$/.test(s.trim()) ? Number(s) : NaN))),
};

export function oneOfRule<T extends string | number>(allowed: readonly T[]): Rule<T> {
  const accept = (v: unknown) => (allowed.includes(v as T) ? (v as T) : undefined);
  const numeric = typeof allowed[0] === 'number';
  return {
    expected: numeric ? allowed.join(' or ') : `one of ${allowed.join(', ')}`,
    accept,
    read: (t) => accept(numeric ? Number(t) : t),
    refuse: numeric ? undefined : (fn, name, v) => unknownMessage(fn, name, v, allowed),
  };
}

export const BOOLEAN: Rule<boolean> = {
  expected: 'true or false',
  accept: (v) => (typeof v === 'boolean' ? v : undefined),
  read: (t) => (t === 'true' ? true : t === 'false' ? false : undefined),
};

/** Any string (a path, a list the data loader reads). */
export const TEXT: Rule<string> = {
  expected: 'a string',
  accept: (v) => (typeof v === 'string' ? v : undefined),
  read: (t) => t,
};
