import * as tf from '@tensorflow/tfjs-core';

/**
 * The fused VBN kernels' contract, as tfjs-core's kernel_names.ts: each kernel's name, its
 * inputs and its attributes. The ops (fused-ops.ts, model/lean-concat.ts) run them by these
 * names and the native backend (backend/node/vbn-kernels.ts) implements them against these types.
 * Shapes: channels last, any rank, seen as `[rows, S, C]`; per-channel vectors `[C]`.
 */
type T = tf.TensorInfo;

/** x `[N, ..., C]` -> hi, lo, variance `[C]`: statistics of the first `rows` rows (default all). */
export const VbnStats = 'VbnStats';
export interface VbnStatsInputs {
  x: T;
}
export interface VbnStatsAttrs {
  rows?: number;
}

/** -> dx (x's shape): the gradient of VbnStats through lo (`dMean`) and variance. */
export const VbnStatsGrad = 'VbnStatsGrad';
export interface VbnStatsGradInputs {
  x: T;
  hi: T;
  lo: T;
  dMean: T;
  dVar: T;
}
export type VbnStatsGradAttrs = VbnStatsAttrs;

/** The per-row affine parameters every normalizing kernel reads. */
export interface AffineInputs {
  x: T;
  gamma: T;
  beta: T;
  /** `[B]`: 0 for reference rows, 1/(N+1) for virtual ones. */
  rowWeights: T;
}

/** -> out (x's shape), rowStats `[B, 2, C]`: normalization (+ ReLU) against given statistics. */
export const VbnNormalize = 'VbnNormalize';
export interface VbnNormalizeInputs extends AffineInputs {
  hi: T;
  lo: T;
  variance: T;
}
export interface VbnNormalizeAttrs {
  epsilon: number;
  relu: boolean;
}

/** -> dx, dMean, dVar, dGamma, dBeta. */
export const VbnNormalizeGrad = 'VbnNormalizeGrad';
export interface VbnNormalizeGradInputs {
  dy: T;
  x: T;
  out: T;
  hi: T;
  lo: T;
  gamma: T;
  rowWeights: T;
  rowStats: T;
}
export type VbnNormalizeGradAttrs = VbnNormalizeAttrs;

/**
 * -> out, rowStats, hi, lo, variance: VbnStats of the first `statsRows` rows and VbnNormalize of
 * every row in one op. With `stop`, no gradient flows through the statistics.
 */
export const VbnLayer = 'VbnLayer';
export type VbnLayerInputs = AffineInputs;
export interface VbnLayerAttrs extends VbnNormalizeAttrs {
  statsRows: number;
  stop: boolean;
}

/** -> dx, dGamma, dBeta; dMeanExt, dVarExt: gradients of hi/lo and variance from other consumers. */
export const VbnLayerGrad = 'VbnLayerGrad';
export interface VbnLayerGradInputs extends VbnNormalizeGradInputs {
  dMeanExt?: T;
  dVarExt?: T;
}
export type VbnLayerGradAttrs = VbnLayerAttrs;

/**
 * The statistics of x's first `statsRows` rows as VbnStats or VbnLayer returned them, which a
 * kernel taking them does not compute again; all three or none (then the kernel computes them).
 */
export interface GivenStatsInputs {
  hi?: T;
  lo?: T;
  variance?: T;
}

/** -> `[B - fromRow, C]`: SpatialMean(VbnLayer(x) with ReLU, fromRow), the rows never stored. */
export const VbnLayerPool = 'VbnLayerPool';
export interface VbnLayerPoolInputs extends AffineInputs, GivenStatsInputs {}
export interface VbnLayerPoolAttrs extends VbnNormalizeAttrs {
  statsRows: number;
  fromRow: number;
}

/**
 * -> dx, dGamma, dBeta: VbnLayerGrad without the layer's output (statistics and ReLU mask
 * recomputed from x). With `fromRow`, dy is VbnLayerPool's gradient `[B - fromRow, C]`; with
 * `inPlace` and x's data an engine output that nothing else holds or sees (no other tensor, no
 * view, never read out), dx is written over x's values.
 */
export const VbnLayerLeanGrad = 'VbnLayerLeanGrad';
export interface VbnLayerLeanGradInputs extends AffineInputs, GivenStatsInputs {
  dy: T;
}
export interface VbnLayerLeanGradAttrs extends VbnLayerAttrs {
  fromRow?: number;
  inPlace?: boolean;
}

/** x `[B, ..., C]` -> `[B - fromRow, C]`: the mean over the spatial axes of rows fromRow.. */
export const SpatialMean = 'SpatialMean';
export interface SpatialMeanInputs {
  x: T;
}
export interface SpatialMeanAttrs {
  fromRow?: number;
}

/** -> dx (x's shape): dy / S on rows fromRow.., zero before. */
export const SpatialMeanGrad = 'SpatialMeanGrad';
export interface SpatialMeanGradInputs {
  dy: T;
  x: T;
}
export type SpatialMeanGradAttrs = SpatialMeanAttrs;

/** Every fused kernel, with its inputs and attributes. */
export interface FusedKernels {
  [VbnStats]: [VbnStatsInputs, VbnStatsAttrs];
  [VbnStatsGrad]: [VbnStatsGradInputs, VbnStatsGradAttrs];
  [VbnNormalize]: [VbnNormalizeInputs, VbnNormalizeAttrs];
  [VbnNormalizeGrad]: [VbnNormalizeGradInputs, VbnNormalizeGradAttrs];
  [VbnLayer]: [VbnLayerInputs, VbnLayerAttrs];
  [VbnLayerGrad]: [VbnLayerGradInputs, VbnLayerGradAttrs];
  [VbnLayerPool]: [VbnLayerPoolInputs, VbnLayerPoolAttrs];
  [VbnLayerLeanGrad]: [VbnLayerLeanGradInputs, VbnLayerLeanGradAttrs];
  [SpatialMean]: [SpatialMeanInputs, SpatialMeanAttrs];
  [SpatialMeanGrad]: [SpatialMeanGradInputs, SpatialMeanGradAttrs];
}
export type FusedKernelName = keyof FusedKernels;

/** The kernels a backend must have for the fused ops (fusedKernelsAvailable checks them all). */
export const FUSED_KERNEL_NAMES: readonly FusedKernelName[] = [
  VbnStats,
  VbnStatsGrad,
  VbnNormalize,
  VbnNormalizeGrad,
  VbnLayer,
  VbnLayerGrad,
  VbnLayerPool,
  VbnLayerLeanGrad,
  SpatialMean,
  SpatialMeanGrad,
];

/**
 * Runs a fused kernel on the active backend with inputs and attributes checked against its
 * contract (tensors or tensor infos); returns its outputs as a list.
 */
export function runFused<K extends FusedKernelName>(
  name: K,
  inputs: FusedKernels[K][0],
  attrs: FusedKernels[K][1],
): tf.Tensor[] {
  const engine = tf.engine();
  const out = engine.runKernel(
    name,
    inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  );
  return (Array.isArray(out) ? out : [out]) as tf.Tensor[];
}
