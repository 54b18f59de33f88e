import { VbnError } from '../errors.js';

/** Refuses a resumed run whose --epochs (the total) is below the epochs it has already completed. */
export function checkEpochsLeft(epochs: number, completed: number, runDir: string): void {
  if (epochs < completed) {
    throw new VbnError(
      `--epochs ${epochs}: the run in ${runDir} has already completed ${completed} epochs (--epochs is the total)`,
    );
  }
}
