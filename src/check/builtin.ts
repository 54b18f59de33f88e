import type * as tf from '@tensorflow/tfjs-core';
import type { Strategy } from '../model/config.js';
import type { ParamTensors, VbnNet } from '../model/net.js';

/**
 * One implementation of the network under comparison: logits `[B, K]` for `inputs` against
 * `reference`, from parameters by name. It may fill `record` with named activations (the built-in
 * strategies record `block0`, `block1`, ...), which lets a report name the first block where two
 * implementations part.
 */
export interface Implementation {
  name: string;
  apply(
    params: ParamTensors,
    reference: tf.Tensor,
    inputs: tf.Tensor,
    record?: Record<string, tf.Tensor>,
  ): tf.Tensor;
}

export function builtinImplementation(net: VbnNet, strategy: Strategy): Implementation {
  return {
    name: strategy,
    apply: (params, reference, inputs, record) =>
      net.apply(params, reference, inputs, { strategy, record }),
  };
}
