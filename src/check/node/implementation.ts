import * as tf from '@tensorflow/tfjs-core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VbnError, shapeString } from '../../errors.js';
import type { ParamTensors, VbnNet } from '../../model/net.js';
import type { Implementation } from '../builtin.js';

export { builtinImplementation, type Implementation } from '../builtin.js';
import { virtualBatchNormConcatenated } from '../../vbn/concatenated.js';
import { referenceBatchNorm, virtualBatchNorm } from '../../vbn/normalize.js';
import { referenceStatistics } from '../../vbn/statistics.js';

/** What a user module's apply receives as its fourth argument, so it needs no imports. */
export const MODULE_LIBRARY = {
  tf,
  referenceStatistics,
  virtualBatchNorm,
  referenceBatchNorm,
  virtualBatchNormConcatenated,
};

/** Parameters seen through a guard: asking for one the network lacks is a clear error. */
function guarded(params: ParamTensors, owner: string): ParamTensors {
  const names = Object.keys(params);
  return new Proxy(params, {
    get(target, prop, receiver) {
      if (
        typeof prop === 'string' &&
        !(prop in target) &&
        !['then', 'toJSON', 'constructor'].includes(prop)
      ) {
        throw new VbnError(
          `${owner}: asks for parameter '${prop}', which the network does not have (parameters: ${names.join(', ')})`,
        );
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

function checkLogits(owner: string, logits: unknown, batch: number, classes: number): tf.Tensor {
  if (!(logits instanceof tf.Tensor)) {
    throw new VbnError(
      `${owner}: apply must return a tf.Tensor of logits [${batch},${classes}] but returned ${typeof logits}`,
    );
  }
  if (logits.rank !== 2 || logits.shape[0] !== batch || logits.shape[1] !== classes) {
    throw new VbnError(
      `${owner}: apply returned logits of shape ${shapeString(logits.shape)} but expected [${batch},${classes}] (one row per input, one column per class)`,
    );
  }
  return logits;
}

/**
 * Loads a module exporting `apply(params, reference, inputs, lib)` that returns logits (or
 * `{ logits, activations }`).
 */
export async function loadImplementation(file: string, net: VbnNet): Promise<Implementation> {
  const url = pathToFileURL(resolve(file)).href;
  let mod: { apply?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(resolve(file))) {
      throw new VbnError(`${file}: no such module`);
    }
    throw new VbnError(`${file}: the module failed to load (${err.message})`);
  }
  if (typeof mod.apply !== 'function') {
    throw new VbnError(
      `${file}: the module must export a function apply(params, reference, inputs)`,
    );
  }
  const apply = mod.apply as (...args: unknown[]) => unknown;
  return {
    name: file,
    apply(params, reference, inputs, record) {
      const out = apply(guarded(params, file), reference, inputs, MODULE_LIBRARY);
      const isObj = out !== null && typeof out === 'object' && !(out instanceof tf.Tensor);
      const result = isObj
        ? (out as { logits?: unknown; activations?: Record<string, tf.Tensor> })
        : { logits: out };
      if (record && result.activations) {
        for (const [k, v] of Object.entries(result.activations)) record[k] = tf.keep(tf.clone(v));
      }
      return checkLogits(file, result.logits, inputs.shape[0], net.config.numClasses);
    },
  };
}
