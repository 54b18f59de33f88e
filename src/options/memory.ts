import { VbnError } from '../errors.js';
import { defaultsOf, flagName, formatValue, type Schema, type Values } from './schema.js';

/** What one process can hold: bytes of memory, and values in one typed array. */
export interface MemoryLimit {
  bytes: number;
  elements: number;
}

/** A lower bound of what a configuration allocates: bytes in all, and the largest single array. */
export interface MemoryNeed {
  bytes: number;
  largest: number;
}

const fits = (n: MemoryNeed, limit: MemoryLimit) =>
  n.bytes <= limit.bytes && n.largest <= limit.elements;

const gb = (bytes: number) => `${(bytes / 2 ** 30).toPrecision(3)} GiB`;

/**
 * Refuses, before anything is allocated or written, a configuration whose lower-bound `need`
 * exceeds `limit`, in one line naming the flag to blame: the given option whose default would
 * shrink the need the most.
 */
export function refuseUnfit<S extends Schema>(
  fn: string,
  schema: S,
  given: Partial<Values<S>>,
  resolved: Values<S>,
  need: (values: Values<S>) => MemoryNeed,
  limit: MemoryLimit,
): void {
  const n = need(resolved);
  if (fits(n, limit)) return;
  const defaults = defaultsOf(schema) as Record<string, unknown>;
  let blame: { key: string; bytes: number } | null = null;
  for (const [key, v] of Object.entries(given)) {
    if (v === undefined || defaults[key] === undefined) continue;
    const bytes = need({ ...resolved, [key]: defaults[key] }).bytes;
    if (!blame || bytes < blame.bytes) blame = { key, bytes };
  }
  const what = blame
    ? `${flagName(schema[blame.key])} ${formatValue((resolved as Record<string, unknown>)[blame.key])}`
    : 'the configuration';
  const why =
    n.largest > limit.elements
      ? `one array would hold ${n.largest.toPrecision(3)} values, more than the ${limit.elements} a typed array can`
      : `a step needs at least ${gb(n.bytes)} of memory, more than the ${gb(limit.bytes)} here`;
  throw new VbnError(`${fn}: ${what} does not fit: ${why}`);
}
