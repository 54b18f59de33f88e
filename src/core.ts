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
export { trainStep, trainStepAsync, NonFiniteLossError, type StepResult } from './train/step.js';
export { computeLoss, type LossName } from './train/losses.js';
export { createOptimizer, type OptimizerName } from './train/optimizers.js';
// The GAN of Salimans et al. (2016): a generator whose blocks use VBN against a reference batch of
// latent vectors, a discriminator, the non-saturating losses, one step, and the sample metrics.
export {
  GAN_DEFAULTS,
  GAN_NORMS,
  learningRateAt,
  type GanNorm,
  type GeneratorConfig,
  type DiscriminatorConfig,
  type GanTrainConfig,
} from './gan/config.js';
export { createGenerator, type Generator } from './gan/generator.js';
export {
  createDiscriminator,
  type Discriminator,
  type DiscriminatorHeads,
} from './gan/discriminator.js';
export { discriminatorLoss, generatorLoss, infoLoss, labelLoss } from './gan/losses.js';
export {
  ganStep,
  ganOptimizer,
  GanAdam,
  NonFiniteGanLossError,
  type GanNetworks,
  type GanStepOptions,
  type GanStepResult,
} from './gan/step.js';
export {
  classifierScore,
  classHistogram,
  classesCovered,
  fitGaussian,
  frechetDistance,
  type Gaussian,
} from './gan/metrics.js';
export { batchIndependence, latents, type SampleMetrics } from './gan/evaluate.js';
