/**
 * `vbn/node`: what only runs in Node. Backend choice among native (oneDNN), wasm and cpu, data
 * loaders, training with checkpoints, `vbn check`'s set-up with user modules, the fused native ops.
 * Importing registers the cpu backend (synchronous, so plain tf ops work at once); nothing else.
 */
export {
  useBackend,
  availableBackends,
  type BackendName,
  type BackendChoice,
} from './backend/node/select.js';
export { loadData, type DataOptions, type LoadedData } from './data/node/load.js';
export type { Dataset } from './data/dataset.js';
export {
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainHooks,
  type TrainSummary,
  type EpochMetrics,
} from './train/node/train.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { readCheckpoint, resolveCheckpointDir } from './run/node/checkpoint.js';
export { prepareCheck, closeCheck, type CheckSetup } from './check/node/setup.js';
export { loadImplementation } from './check/node/implementation.js';
export {
  vbnStatsOp,
  vbnNormalizeOp,
  vbnLayerOp,
  spatialMeanOp,
  fusedKernelsAvailable,
} from './backend/fused-ops.js';
export { nativeInfo } from './backend/node/native.js';
export {
  exportOnnx,
  type ExportOnnxOptions,
  type ExportOnnxSummary,
} from './export/node/export-onnx.js';
export { classifierToOnnx, type ExportInfo } from './export/classifier-onnx.js';
export { generatorToOnnx } from './export/generator-onnx.js';
