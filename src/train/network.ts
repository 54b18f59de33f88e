import { createVbnNet, type VbnNet } from '../model/net.js';
import type { TrainConfig } from './config.js';

/** The network a training configuration describes, for images `inputShape` and `numClasses`. */
export function networkFor(
  config: TrainConfig,
  inputShape: [number, number, number],
  numClasses: number,
): VbnNet {
  return createVbnNet({
    inputShape,
    filters: config.filters,
    kernelSize: config.kernelSize,
    strides: config.strides,
    padding: config.padding,
    numClasses,
    mode: config.mode,
    epsilon: config.epsilon,
    stopReferenceGradient: config.stopReferenceGradient,
  });
}
