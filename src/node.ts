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
} from './backend/select.js';
export { loadData, type DataOptions, type LoadedData } from './data/load.js';
export type { Dataset } from './data/dataset.js';
export {
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainHooks,
  type TrainSummary,
  type EpochMetrics,
} from './train/train.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { readCheckpoint, resolveCheckpointDir } from './train/checkpoint.js';
export { prepareCheck, closeCheck, type CheckSetup } from './check/setup.js';
export { loadImplementation } from './check/implementation.js';
export {
  vbnStatsOp,
  vbnNormalizeOp,
  vbnLayerOp,
  spatialMeanOp,
  fusedKernelsAvailable,
} from './backend/fused-ops.js';
export { nativeInfo } from './backend/native.js';
export {
  exportOnnx,
  type ExportOnnxOptions,
  type ExportOnnxSummary,
} from './export/node/export-onnx.js';
export { classifierToOnnx, type ExportInfo } from './export/classifier-onnx.js';
export { generatorToOnnx } from './export/generator-onnx.js';
