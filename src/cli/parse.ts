import { InvalidArgumentError } from 'commander';
import type { Rule } from '../vbn/validate.js';

/** A flag's parser from its rule: `expected <syntax or expected>.` when the value breaks it. */
export function parserOf<T>(rule: Rule<T>) {
  return (value: string): T => {
    const v = rule.read(value);
    if (v === undefined)
      throw new InvalidArgumentError(`expected ${rule.syntax ?? rule.expected}.`);
    return v;
  };
}

/** Flag value parsers: each rejects bad input with what was expected. */
export function integer(min: number) {
  return (value: string): number => {
    const v = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}.`);
    }
    return v;
  };
}

export function positiveNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) {
    throw new InvalidArgumentError('expected a positive number.');
  }
  return v;
}

/** A positive number of seconds that a timer can wait (Node's timers stop at 2^31 - 1 ms). */
export function timeoutSeconds(value: string): number {
  const v = positiveNumber(value);
  if (v * 1000 > 2 ** 31 - 1) throw new InvalidArgumentError('expected at most 2147483 seconds.');
  return v;
}

export function nonNegativeNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0) {
    throw new InvalidArgumentError('expected a number >= 0.');
  }
  return v;
}

export function fraction(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v > 0 && v < 1)) {
    throw new InvalidArgumentError('expected a number between 0 and 1 (exclusive).');
  }
  return v;
}

/** A number in [0, 1], both ends included. */
export function closedFraction(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v >= 0 && v <= 1)) {
    throw new InvalidArgumentError('expected a number from 0 to 1.');
  }
  return v;
}

export function intList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InvalidArgumentError('expected a comma list of positive integers, like 16,32,64.');
  }
  return parts.map(Number);
}

export function choice<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!allowed.includes(value as T)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}.`);
    }
    return value as T;
  };
}
