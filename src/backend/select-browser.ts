import { chooseBackend, initializableBackends, type BackendCatalog } from './choose.js';
import { registerWasmConvGradients } from './wasm-conv-gradients.js';
import { registerWasmSamePadding } from './wasm-same-padding.js';

/**
 * Backend choice in the browser. Importing registers no backend: each loads when first asked for
 * (a bundler keeps them in the bundle; nothing runs until `useBackend`).
 */

/** Backends vbn knows in the browser, fastest first. */
export type BrowserBackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export type BrowserBackendChoice = BrowserBackendName | 'auto';
export const BROWSER_BACKENDS: readonly BrowserBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BrowserBackendOptions {
  /**
   * Where the wasm backend fetches its `.wasm` files (a URL prefix ending in '/'); default: the
   * page's own folder.
   */
  wasmPaths?: string;
}

let wasmPathsSet = false;

function hasWebGpu(): boolean {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return nav?.gpu != null;
}

function catalog(options: BrowserBackendOptions): BackendCatalog<BrowserBackendName> {
  return {
    order: BROWSER_BACKENDS,
    label: 'useBackend',
    async prepare(name) {
      if (name === 'cpu') {
        await import('@tensorflow/tfjs-backend-cpu');
      } else if (name === 'webgl') {
        await import('@tensorflow/tfjs-backend-webgl');
      } else if (name === 'webgpu') {
        if (!hasWebGpu()) return 'this browser has no WebGPU (navigator.gpu is missing)';
        await import('@tensorflow/tfjs-backend-webgpu');
      } else {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        // setWasmPaths throws once wasm has initialized: the first prefix given wins.
        if (options.wasmPaths !== undefined && !wasmPathsSet) wasm.setWasmPaths(options.wasmPaths);
        wasmPathsSet ||= options.wasmPaths !== undefined;
        registerWasmConvGradients();
        registerWasmSamePadding();
      }
      return null;
    },
  };
}

/**
 * Makes `choice` the active TensorFlow.js backend and returns its name. `auto` takes the first of
 * webgpu, webgl, wasm, cpu that initializes; why a faster one was skipped goes to `log` in one line.
 */
export async function useBackend(
  choice: BrowserBackendChoice,
  log: (line: string) => void = () => {},
  options: BrowserBackendOptions = {},
): Promise<BrowserBackendName> {
  return chooseBackend(catalog(options), choice, log);
}

/** The backends that initialize in this browser, in `auto` order. Leaves `cpu` active. */
export async function availableBackends(
  options: BrowserBackendOptions = {},
): Promise<BrowserBackendName[]> {
  return initializableBackends(catalog(options), 'cpu');
}
