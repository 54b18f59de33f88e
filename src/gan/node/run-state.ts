import type { DataOptions } from '../../data/node/load.js';
import type { GanTrainConfig } from '../config.js';

/** Metrics of one completed epoch of a GAN run (a line of metrics.jsonl). */
export interface GanEpochMetrics {
  epoch: number;
  /** Steps done in the run. */
  step: number;
  /** Mean discriminator and generator losses over the epoch's steps. */
  dLoss: number;
  gLoss: number;
  /** Over `evalSamples` samples from a fixed z, against as many real test images. */
  classifierScore: number;
  frechetDistance: number;
  classesCovered: number;
  /** Seconds spent training in this epoch (evaluation excluded). */
  seconds: number;
  /** The generator's and the discriminator's learning rates at the epoch's last step. */
  lr?: number;
  dLr?: number;
}

/** Where a GAN run stands; saved in every checkpoint so that a resumed run continues exactly. */
export interface GanRunState {
  epoch: number;
  stepInEpoch: number;
  step: number;
  /** Losses of every step of the run, for the curves. */
  dLosses: number[];
  gLosses: number[];
  /** Training seconds of the current (incomplete) epoch. */
  seconds: number;
  history: GanEpochMetrics[];
}

/** What a GAN checkpoint's checkpoint.json holds. */
export interface GanCheckpointMeta {
  kind: 'gan';
  config: GanTrainConfig;
  data: DataOptions;
  imageShape: [number, number, number];
  backend: string;
  state: GanRunState;
}

export function freshState(): GanRunState {
  return { epoch: 0, stepInEpoch: 0, step: 0, dLosses: [], gLosses: [], seconds: 0, history: [] };
}

/**
 * The configuration a checkpoint was trained with. Runs saved before dLr existed trained both
 * networks at lr, before lrDecay at constant rates, before outputStride with a stride-2 output, before codes without a code,
 * before labelWeight without labels.
 */
export function savedGanConfig(meta: GanCheckpointMeta): GanTrainConfig {
  const c: Partial<GanTrainConfig> = meta.config;
  return {
    ...meta.config,
    dLr: c.dLr ?? meta.config.lr,
    lrDecay: c.lrDecay ?? 0,
    outputStride: c.outputStride ?? 2,
    codes: c.codes ?? 0,
    labelWeight: c.labelWeight ?? 0,
  };
}
