import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './gradients.js';
import { VbnError } from '../errors.js';
import { registerWasmConvGradients } from './wasm-conv-gradients.js';

// Registering wasm gives it priority over cpu, yet it initializes asynchronously: synchronous ops
// right after `import 'vbn'` would fail. Unless the user already chose one, start on cpu, which
// initializes synchronously inside setBackend's first (synchronous) part.
if ((tf.engine() as unknown as { backendName: string | null }).backendName == null) {
  void tf.setBackend('cpu');
}

/** Backends vbn knows. `native` is the oneDNN engine, registered only when its addon loads. */
export type BackendName = 'cpu' | 'wasm' | 'native';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'wasm', 'native'];

/** Order `auto` tries: fastest first. */
const AUTO_ORDER: readonly BackendName[] = ['native', 'wasm', 'cpu'];

let wasmReady: boolean | undefined;

async function prepare(name: BackendName, threads?: number): Promise<string | null> {
  if (name === 'cpu') return null;
  if (name === 'wasm') {
    registerWasmConvGradients();
    return null;
  }
  const { registerNativeBackend } = await import('./native.js');
  return registerNativeBackend(threads);
}

/**
 * Makes `choice` the active TensorFlow.js backend and returns its name. `auto` takes the first of
 * native, wasm, cpu that initializes; why a faster one was skipped goes to `log` in one line.
 * `options.threads`: threads of the native engine (default: OMP_NUM_THREADS, else all cores).
 */
export async function useBackend(
  choice: BackendChoice,
  log: (line: string) => void = () => {},
  options: { threads?: number } = {},
): Promise<BackendName> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new VbnError(
      `--backend: unknown backend '${String(choice)}' (expected one of ${BACKEND_CHOICES.join(', ')})`,
    );
  }
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of order) {
    const problem = await prepare(name, options.threads);
    if (problem === null && (await trySet(name))) return name;
    const why = problem ?? `the ${name} backend failed to initialize`;
    if (choice !== 'auto') throw new VbnError(`--backend ${name}: ${why}`);
    log(`backend ${name} unavailable (${why}); falling back`);
  }
  throw new VbnError('no TensorFlow.js backend could be initialized');
}

async function trySet(name: BackendName): Promise<boolean> {
  if (name === 'wasm' && wasmReady === false) return false;
  try {
    const ok = await tf.setBackend(name);
    if (name === 'wasm') wasmReady = ok;
    return ok;
  } catch {
    if (name === 'wasm') wasmReady = false;
    return false;
  }
}

/** The backends that initialize on this machine, in `auto` order. Leaves `cpu` active. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  for (const name of AUTO_ORDER) {
    if ((await prepare(name)) === null && (await trySet(name))) out.push(name);
  }
  await tf.setBackend('cpu');
  return out;
}
