/**
 * vbn: virtual batch normalization for TensorFlow.js.
 * Importing this module registers gradients (through tfjs-layers), the cpu and wasm backends,
 * and the VirtualBatchNormalization layer for serialization.
 */
// The Node bundle of tfjs-core registers no gradients; tfjs-layers' does (imported here).
import '@tensorflow/tfjs-layers';
export { VbnError, shapeString } from './errors.js';
export type { VbnMode, StatisticsOptions, NormalizeOptions } from './vbn/options.js';
export { DEFAULT_EPSILON } from './vbn/options.js';
export {
  referenceStatistics,
  disposeStatistics,
  type ReferenceStatistics,
} from './vbn/statistics.js';
export { virtualBatchNorm, referenceBatchNorm } from './vbn/normalize.js';
export { virtualBatchNormConcatenated, type ConcatenatedOptions } from './vbn/concatenated.js';
export { stopGradient } from './vbn/stop-gradient.js';
export {
  VirtualBatchNormalization,
  virtualBatchNormalization,
  type VirtualBatchNormalizationArgs,
} from './vbn/layer.js';
export {
  useBackend,
  availableBackends,
  type BackendName,
  type BackendChoice,
} from './backend/select.js';
export {
  createVbnNet,
  type VbnNet,
  type Params,
  type ParamTensors,
  type ApplyOptions,
} from './model/net.js';
export {
  type VbnNetConfig,
  type Strategy,
  type Padding,
  type DataFormat,
  STRATEGIES,
} from './model/config.js';
