import type { DataOptions } from '../../data/node/load.js';
import type { RunPosition } from '../../run/epoch-loop.js';
import type { TrainConfig } from '../config.js';

export interface EpochMetrics {
  epoch: number;
  /** Optimizer steps taken so far in the run. */
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training examples per second in this epoch (evaluation excluded). */
  examplesPerSecond: number;
  /** Seconds spent training in this epoch. */
  seconds: number;
}

/** Running sums of the current epoch: loss * examples, correct, examples, seconds. */
export interface EpochSums {
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
}

/** Where a run stands; saved in every checkpoint so that a resumed run continues exactly. */
export interface RunState extends RunPosition {
  partial: EpochSums;
  bestValLoss: number | null;
  history: EpochMetrics[];
}

/** What checkpoint.json holds. */
export interface CheckpointMeta {
  config: TrainConfig;
  data: DataOptions;
  inputShape: [number, number, number];
  classNames: string[];
  backend: string;
  state: RunState;
}

const emptySums = (): EpochSums => ({ lossSum: 0, correct: 0, seen: 0, seconds: 0 });

export function freshState(): RunState {
  return {
    epoch: 0,
    stepInEpoch: 0,
    step: 0,
    partial: emptySums(),
    bestValLoss: null,
    history: [],
  };
}

/** Adds one step's results to the epoch's sums and counters. */
export function recordStep(
  state: RunState,
  r: { loss: number; correct: number; examples: number; seconds: number },
): void {
  state.step++;
  state.stepInEpoch++;
  const p = state.partial;
  p.lossSum += r.loss * r.examples;
  p.correct += r.correct;
  p.seen += r.examples;
  p.seconds += r.seconds;
}

/** Closes the epoch with its validation result; returns its metrics and whether it is the best. */
export function closeEpoch(
  state: RunState,
  val: { loss: number; accuracy: number },
): { metrics: EpochMetrics; isBest: boolean } {
  const p = state.partial;
  const metrics: EpochMetrics = {
    epoch: state.epoch + 1,
    step: state.step,
    trainLoss: p.lossSum / p.seen,
    trainAccuracy: p.correct / p.seen,
    valLoss: val.loss,
    valAccuracy: val.accuracy,
    examplesPerSecond: p.seen / Math.max(p.seconds, 1e-9),
    seconds: p.seconds,
  };
  state.history.push(metrics);
  state.epoch++;
  state.stepInEpoch = 0;
  state.partial = emptySums();
  const isBest = state.bestValLoss === null || metrics.valLoss < state.bestValLoss;
  if (isBest) state.bestValLoss = metrics.valLoss;
  return { metrics, isBest };
}
