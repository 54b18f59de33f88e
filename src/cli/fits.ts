import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import { GAN_OPTIONS, type GanTrainConfig } from '../gan/config.js';
import { ganNeed } from '../gan/memory.js';
import { refuseUnfit, type MemoryLimit } from '../options/memory.js';
import { option } from '../options/schema.js';
import { TRAIN_OPTIONS, type TrainConfig } from '../train/config.js';
import { classifierNeed } from '../train/memory.js';
import { intRule } from '../vbn/validate.js';

/** This machine: its memory, and the longest typed array Node allows. */
export const machineLimit = (): MemoryLimit => ({
  bytes: totalmem(),
  elements: constants.MAX_LENGTH,
});

/** TRAIN_OPTIONS and the image size, whose default here is MNIST's 28 (for the blame only). */
const TRAIN_FIT = {
  ...TRAIN_OPTIONS,
  imageSize: option({ flag: '--image-size <n>', rule: intRule(1), default: 28, help: '' }),
};

/**
 * `vbn train`: refuses a configuration that cannot fit, in one line naming the flag, before
 * anything is allocated or written. `imageSize`: the images' side; channels 1 before the data
 * is read, its own after (`channels`).
 */
export function refuseUnfitTraining(
  given: Partial<TrainConfig>,
  config: TrainConfig,
  image: { size?: number; shape?: readonly number[] },
): void {
  const shape = image.shape ?? (image.size ? [image.size, image.size, 1] : null);
  if (!shape) return;
  refuseUnfit(
    'vbn train',
    TRAIN_FIT,
    { ...given, imageSize: image.size },
    { ...config, imageSize: shape[0] },
    (v) => classifierNeed(v, [v.imageSize, (v.imageSize * shape[1]) / shape[0], shape[2]]),
    machineLimit(),
  );
}

/** `vbn gan`: the same for a GAN run on images of `shape`. */
export function refuseUnfitGan(
  given: Partial<GanTrainConfig>,
  config: GanTrainConfig,
  shape: readonly number[],
): void {
  refuseUnfit('vbn gan', GAN_OPTIONS, given, config, (v) => ganNeed(v, shape), machineLimit());
}
