import { describe, expect, it } from 'vitest';
import { VbnError } from '../../src/errors.js';
import { TrainingDivergedError, divergedError } from '../../src/run/diverged.js';

describe('divergedError', () => {
  it('names the run, the loss, the step after the position, its epoch and the last checkpoint', () => {
    const e = divergedError(
      'GAN training',
      { name: 'generator loss', value: NaN },
      { epoch: 2, stepInEpoch: 4, step: 28 },
      'runs/x/last (written before step 29)',
    );
    expect(e).toBeInstanceOf(TrainingDivergedError);
    expect(e).toBeInstanceOf(VbnError);
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(
      'GAN training diverged: the generator loss became NaN at step 29 (epoch 3); no update was applied and no checkpoint was overwritten; last good checkpoint: runs/x/last (written before step 29). Try a lower --lr.',
    );
  });
});
