/**
 * `vbn` in Node: the core, the Node-only parts (`vbn/node`), and the parts of `vbn/testing` that
 * the README and tests use by this name. Importing registers TensorFlow.js' gradients, the cpu
 * backend and the VirtualBatchNormalization layer class; it sets no backend (cpu is the only one
 * registered, so plain tf ops run on it until `useBackend` picks another).
 */
export * from './core.js';
export * from './node.js';
export {
  Tape,
  leaves,
  valuesOf,
  virtualBatchNorm64,
  referenceBatchNorm64,
  vbnNet64,
  paramLeaves,
  runCheck,
  formatReport,
  type CheckReport,
  generator64,
} from './testing.js';
