import * as tf from '@tensorflow/tfjs-core';
import { VbnError, shapeString } from '../errors.js';
import type { ParamTensors, Params } from '../model/net.js';
import { tfSeed } from '../util/random.js';

/**
 * Shared by the generator and the discriminator: deterministic initial values by parameter name
 * (gamma ones; beta and biases zeros; kernels Glorot uniform over their two last axes' fans), and
 * the checked lookup of a parameter by name.
 */
export function initParams(
  names: readonly string[],
  shapes: Readonly<Record<string, number[]>>,
  seed: number,
): Params {
  return tf.tidy(() => {
    const out: Params = {};
    names.forEach((name, k) => {
      const shape = shapes[name];
      let value: tf.Tensor;
      if (name.endsWith('/gamma')) value = tf.ones(shape);
      else if (name.endsWith('/beta') || name.endsWith('/bias')) value = tf.zeros(shape);
      else {
        const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
        const fans = receptive * (shape[shape.length - 2] + shape[shape.length - 1]);
        const limit = Math.sqrt(6 / fans);
        value = tf.randomUniform(shape, -limit, limit, 'float32', tfSeed(seed, k));
      }
      // Unnamed: tf.js variable names are global, and several networks may live at once.
      out[name] = tf.variable(value, true);
    });
    return out;
  });
}

/** `params[name]`, checked against the expected shape; `who` names the network in errors. */
export function paramOf(
  who: string,
  shapes: Readonly<Record<string, number[]>>,
  params: ParamTensors,
  name: string,
): tf.Tensor {
  const p = params[name];
  if (!p) {
    throw new VbnError(
      `${who}: missing parameter '${name}' (expected ${Object.keys(shapes).join(', ')})`,
    );
  }
  if (p.shape.join(',') !== shapes[name].join(',')) {
    throw new VbnError(
      `${who}: parameter '${name}' has shape ${shapeString(p.shape)} but the network expects ${shapeString(shapes[name])}`,
    );
  }
  return p;
}

/** Throws unless `t` is a float32 tensor of shape [B >= 1, ...rest]. */
export function expectBatch(
  fn: string,
  what: string,
  value: unknown,
  rest: readonly number[],
): void {
  if (!(value instanceof tf.Tensor)) throw new VbnError(`${fn}: ${what} must be a tf.Tensor`);
  const t: tf.Tensor = value;
  const ok =
    t.rank === rest.length + 1 &&
    t.shape.slice(1).every((d, i) => d === rest[i]) &&
    t.dtype === 'float32' &&
    t.shape[0] >= 1;
  if (!ok) {
    throw new VbnError(
      `${fn}: ${what} must be float32 of shape [B,${rest.join(',')}] with B >= 1 but is ${t.dtype} ${shapeString(t.shape)}`,
    );
  }
}
