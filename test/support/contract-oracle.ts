/**
 * The contract's network cases in float64 (src/oracle, independent of TensorFlow.js): logits and
 * the gradient of sum(logits * P) w.r.t. every parameter, the reference and the inputs.
 * 'cached' statistics are constants: the oracle detaches the reference from them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Tape, leaves, paramLeaves, valuesOf, vbnNet64 } from '../../src/testing.js';
import { netInstance, type NetCase } from './contract.js';

/** Values of a row-major tensor of `shape` with its axes permuted by `perm`. */
export function permute(values: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float64Array(values.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d] * strides[perm[d]];
    out[k] = values[src];
    for (let d = outShape.length - 1; d >= 0 && ++idx[d] === outShape[d]; d--) idx[d] = 0;
  }
  return out;
}

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

export function netOracle(c: NetCase): Record<string, Float64Array> {
  const { net, params, reference, inputs, projection } = netInstance(c);
  const first = net.config.dataFormat === 'channelsFirst';
  const nhwc = (t: tf.Tensor) => ({
    shape: first ? TO_NHWC.map((p) => t.shape[p]) : t.shape,
    values: first ? permute(t.dataSync(), t.shape, TO_NHWC) : Float64Array.from(t.dataSync()),
  });
  const config = {
    ...net.config,
    stopReferenceGradient: net.config.stopReferenceGradient || c.strategy === 'cached',
  };
  const t = new Tape();
  const p = paramLeaves(
    t,
    Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, { shape: v.shape, values: v.dataSync() }]),
    ),
  );
  const r = nhwc(reference);
  const x = nhwc(inputs);
  const rl = leaves(t, r.shape, r.values);
  const xl = leaves(t, x.shape, x.values);
  const logits = vbnNet64(t, config, p, rl, xl);
  const g = t.backward(logits.ids, Array.from(projection.dataSync()));
  const grad = (ids: number[]) => Float64Array.from(ids, (id) => g[id]);
  const back = (v: Float64Array, shape: number[]) => (first ? permute(v, shape, TO_NCHW) : v);
  const out: Record<string, Float64Array> = { logits: valuesOf(t, logits) };
  for (const [k, v] of Object.entries(p)) out[k] = grad(v.ids);
  if (c.strategy !== 'cached') out.reference = back(grad(rl.ids), r.shape);
  out.inputs = back(grad(xl.ids), x.shape);
  tf.dispose([reference, inputs, projection, ...Object.values(params)]);
  return out;
}
