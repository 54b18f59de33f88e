/**
 * The platform-independent core of vbn (browser-safe: no Node built-ins, no backend registered,
 * no setBackend). Importing it registers TensorFlow.js' gradients (through tfjs-layers) and the
 * VirtualBatchNormalization layer class; nothing else.
 */
import './backend/gradients.js';
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
export { VirtualBatchNormalization, type VirtualBatchNormalizationArgs } from './vbn/layer.js';
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
export { trainStep, NonFiniteLossError, type StepResult } from './train/step.js';
export { computeLoss, type LossName } from './train/losses.js';
export { createOptimizer, type OptimizerName } from './train/optimizers.js';
