import { epochOrder } from './order.js';

/** Where a run stands: the counters every run's saved state carries. */
export interface RunPosition {
  /** Epochs completed. */
  epoch: number;
  /** Steps done inside the current (incomplete) epoch. */
  stepInEpoch: number;
  /** Steps done in the run. */
  step: number;
}

/** What a run does at each point of the loop; runEpochs decides when. */
export interface EpochHooks {
  /**
   * One optimizer step on the batch `stepInEpoch` of `order` (the epoch's data order); it
   * advances `step` and `stepInEpoch`.
   */
  step(order: number[]): void | Promise<void>;
  /** Closes the epoch (evaluation, metrics, checkpoint); it advances `epoch` and zeroes `stepInEpoch`. */
  endEpoch(): Promise<void>;
  /** Writes a checkpoint inside an epoch (periodic, or before stopping). */
  checkpoint(): Promise<void>;
  /** Polled after every step and every epoch: true finishes the step, checkpoints and stops. */
  shouldStop?(): boolean;
}

export interface EpochLoop extends EpochHooks {
  /** The run's counters: read here, advanced by `step` and `endEpoch`. */
  position: RunPosition;
  /** The total number of epochs. */
  epochs: number;
  stepsPerEpoch: number;
  /** Checkpoint every this many steps inside an epoch; 0 only at epoch ends. */
  checkpointEvery: number;
  /** Training examples and the seed, for the data order (epochOrder). */
  examples: number;
  seed: number;
}

/**
 * Gives the event loop a turn (a macrotask, not a microtask): signal handlers and progress bars'
 * timers only run there.
 */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

/**
 * Runs the epochs left from `position` up to `epochs`, each in the order epochOrder gives. A stop
 * asked for inside an epoch checkpoints there and ends the loop; one asked for at an epoch's last
 * step or during its end closes the epoch first. Returns whether the run stopped before its last
 * epoch.
 */
export async function runEpochs(loop: EpochLoop): Promise<boolean> {
  const at = loop.position;
  while (at.epoch < loop.epochs) {
    const order = epochOrder(loop.examples, loop.seed, at.epoch);
    let stop = false;
    while (at.stepInEpoch < loop.stepsPerEpoch && !stop) {
      await loop.step(order);
      await nextTurn();
      stop = Boolean(loop.shouldStop?.());
      const midEpoch = at.stepInEpoch < loop.stepsPerEpoch;
      const due = loop.checkpointEvery > 0 && at.step % loop.checkpointEvery === 0;
      if (midEpoch && (stop || due)) await loop.checkpoint();
      if (midEpoch && stop) return true;
    }
    await loop.endEpoch();
    stop = stop || Boolean(loop.shouldStop?.());
    if (stop && at.epoch < loop.epochs) return true;
  }
  return false;
}
