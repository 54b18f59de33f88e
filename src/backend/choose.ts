import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';

/**
 * The backends one platform offers (Node or the browser), fastest first, and how to make one
 * ready: `prepare` loads and registers it and returns null, or a one-line reason it cannot run.
 */
export interface BackendCatalog<N extends string> {
  order: readonly N[];
  prepare(name: N): Promise<string | null>;
  /** How errors name the setting, e.g. '--backend'. */
  label: string;
}

const failed = new Set<string>();

/** setBackend that reports failure as false (and remembers it: a failed init is not retried). */
async function trySet(name: string): Promise<boolean> {
  if (failed.has(name)) return false;
  try {
    if (await tf.setBackend(name)) return true;
  } catch {
    // fall through: reported as unavailable
  }
  failed.add(name);
  return false;
}

/**
 * Makes `choice` the active backend and returns its name. `auto` takes the first of
 * `catalog.order` that initializes; why a faster one was skipped goes to `log` in one line.
 */
export async function chooseBackend<N extends string>(
  catalog: BackendCatalog<N>,
  choice: N | 'auto',
  log: (line: string) => void,
): Promise<N> {
  if (choice !== 'auto' && !catalog.order.includes(choice)) {
    const expected = ['auto', ...catalog.order].join(', ');
    throw new VbnError(
      `${catalog.label}: unknown backend '${String(choice)}' (expected one of ${expected})`,
    );
  }
  const order = choice === 'auto' ? catalog.order : [choice];
  for (const name of order) {
    const problem = await catalog.prepare(name);
    if (problem === null && (await trySet(name))) return name;
    const why = problem ?? `the ${name} backend failed to initialize`;
    if (choice !== 'auto') throw new VbnError(`${catalog.label} ${name}: ${why}`);
    log(`backend ${name} unavailable (${why}); falling back`);
  }
  throw new VbnError('no TensorFlow.js backend could be initialized');
}

/** The backends of `catalog` that initialize here, in order. Leaves `fallback` active. */
export async function initializableBackends<N extends string>(
  catalog: BackendCatalog<N>,
  fallback: N,
): Promise<N[]> {
  const out: N[] = [];
  for (const name of catalog.order) {
    if ((await catalog.prepare(name)) === null && (await trySet(name))) out.push(name);
  }
  await tf.setBackend(fallback);
  return out;
}
