import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { chooseBackend, initializableBackends, type BackendCatalog } from '../choose.js';
import { registerWasmConvGradients } from '../wasm-conv-gradients.js';
import { registerWasmSamePadding } from '../wasm-same-padding.js';

/**
 * Backend choice in Node. Importing registers only cpu (synchronous, so plain tf ops work right
 * after `import 'vbn'` without any setBackend); wasm and native load when first asked for.
 */

/** Backends vbn knows in Node. `native` is the oneDNN engine, registered only when its addon loads. */
export const BACKEND_NAMES = ['cpu', 'wasm', 'native'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

function catalog(threads?: number): BackendCatalog<BackendName> {
  return {
    order: ['native', 'wasm', 'cpu'],
    label: '--backend',
    async prepare(name) {
      if (name === 'cpu') return null;
      if (name === 'wasm') {
        await import('@tensorflow/tfjs-backend-wasm');
        registerWasmConvGradients();
        registerWasmSamePadding();
        return null;
      }
      const { registerNativeBackend } = await import('./native.js');
      return registerNativeBackend(threads);
    },
  };
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
  return chooseBackend(catalog(options.threads), choice, log);
}

/** The backends that initialize on this machine, in `auto` order. Leaves `cpu` active. */
export async function availableBackends(): Promise<BackendName[]> {
  return initializableBackends(catalog(), 'cpu');
}
