/**
 * vbn: virtual batch normalization for TensorFlow.js.
 * Importing this module registers gradients (through tfjs-layers), the cpu and wasm backends,
 * and the VirtualBatchNormalization layer for serialization.
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
export {
  compare,
  assertAgree,
  DisagreementError,
  type Agreement,
  type Tolerance,
  type Comparable,
} from './check/compare.js';
export { Tape, leaves, valuesOf, sizeOf, stridesOf, type NodeTensor } from './oracle/tape.js';
export {
  virtualBatchNorm64,
  referenceBatchNorm64,
  moments64,
  type Vbn64Options,
} from './oracle/vbn64.js';
export { loadData, DATA_DEFAULTS, type DataOptions, type LoadedData } from './data/load.js';
export type { Dataset } from './data/dataset.js';
export {
  train,
  epochOrder,
  TrainingDivergedError,
  type TrainOptions,
  type TrainHooks,
  type TrainSummary,
  type EpochMetrics,
  type RunState,
  type CheckpointMeta,
  type StepProgress,
} from './train/train.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { trainStep, NonFiniteLossError, type StepResult } from './train/step.js';
export { computeLoss, LOSSES, type LossName } from './train/losses.js';
export { createOptimizer, OPTIMIZERS, DEFAULT_LR, type OptimizerName } from './train/optimizers.js';
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from './train/config.js';
export { readCheckpoint, resolveCheckpointDir, writeCheckpoint } from './train/checkpoint.js';
export { vbnNet64, conv2d64, paramLeaves } from './oracle/net64.js';
export {
  runCheck,
  CHECK_TOLERANCES,
  type CheckOptions,
  type CheckReport,
  type CheckRow,
} from './check/run.js';
export { prepareCheck, type CheckSetup } from './check/setup.js';
export { formatReport, reportJson } from './check/report.js';
export {
  builtinImplementation,
  loadImplementation,
  MODULE_LIBRARY,
  type Implementation,
} from './check/implementation.js';
export { Random, tfSeed } from './util/random.js';
export {
  vbnStatsOp,
  vbnNormalizeOp,
  vbnLayerOp,
  spatialMeanOp,
  fusedKernelsAvailable,
} from './backend/fused-ops.js';
export { nativeInfo } from './backend/native.js';
export type { Kernels } from './model/block-ops.js';
// GAN (issue 11): generator with VBN, discriminator, losses, step, metrics.
export {
  GAN_DEFAULTS,
  GAN_NORMS,
  resolveGeneratorConfig,
  resolveDiscriminatorConfig,
  resolveGanTrainConfig,
  type GanNorm,
  type GeneratorConfig,
  type DiscriminatorConfig,
  type GanTrainConfig,
} from './gan/config.js';
export { createGenerator, type Generator } from './gan/generator.js';
export { createDiscriminator, type Discriminator } from './gan/discriminator.js';
export { discriminatorLoss, generatorLoss } from './gan/losses.js';
export {
  ganStep,
  ganOptimizer,
  NonFiniteGanLossError,
  type GanNetworks,
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
export {
  applyClassifier,
  classifyAll,
  initClassifier,
  CLASSIFIER_SHAPES,
  type ClassifierOutput,
} from './gan/classifier.js';
export {
  batchIndependence,
  featureGaussian,
  generateImages,
  latents,
  sampleMetrics,
  type SampleMetrics,
} from './gan/evaluate.js';
export { generator64, conv2dTranspose64, dense64, tanh64 } from './oracle/generator64.js';
