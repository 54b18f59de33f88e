/**
 * `vbn` under the `browser` condition (esbuild, webpack, vite, rollup): the core plus backend
 * choice among webgpu, webgl, wasm and cpu. Importing registers no backend and sets none.
 */
export * from './core.js';
export {
  useBackend,
  availableBackends,
  BROWSER_BACKENDS,
  type BrowserBackendName as BackendName,
  type BrowserBackendChoice as BackendChoice,
  type BrowserBackendOptions,
} from './backend/select-browser.js';
