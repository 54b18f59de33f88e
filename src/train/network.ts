import { NET_OPTIONS } from '../model/options.js';
import { createVbnNet, type VbnNet } from '../model/net.js';
import { pick } from '../options/schema.js';
import type { TrainConfig } from './config.js';

const NET_KEYS = Object.keys(NET_OPTIONS) as (keyof typeof NET_OPTIONS)[];

/** The network a training configuration describes (its NET_OPTIONS), for images `inputShape` and `numClasses`. */
export function networkFor(
  config: TrainConfig,
  inputShape: [number, number, number],
  numClasses: number,
): VbnNet {
  return createVbnNet({ ...pick(config, NET_KEYS), inputShape, numClasses });
}
