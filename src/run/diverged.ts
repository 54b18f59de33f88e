import { VbnError } from '../errors.js';
import type { RunPosition } from './epoch-loop.js';

/** Raised when the loss becomes NaN or infinite; names the step and the last good checkpoint. */
export class TrainingDivergedError extends VbnError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'TrainingDivergedError';
  }
}

/**
 * The error for a non-finite loss at the step after `at`: `what` names the run ('training',
 * 'GAN training'), `loss` the loss ('loss', 'generator loss'); `lastCheckpoint` says where the
 * last good checkpoint is (RunFolder.describeLast).
 */
export function divergedError(
  what: string,
  loss: { name: string; value: number },
  at: RunPosition,
  lastCheckpoint: string,
): TrainingDivergedError {
  return new TrainingDivergedError(
    `${what} diverged: the ${loss.name} became ${loss.value} at step ${at.step + 1} (epoch ${at.epoch + 1}); no update was applied and no checkpoint was overwritten; last good checkpoint: ${lastCheckpoint}. Try a lower --lr.`,
  );
}
