import type { ResolvedNetConfig } from '../model/config.js';
import { softmaxCrossEntropy64 } from '../oracle/loss64.js';
import { paramLeaves, vbnNet64 } from '../oracle/net64.js';
import { Tape, leaves, valuesOf } from '../oracle/tape.js';

/** Plain values of one parameter. */
export interface ParamValues {
  shape: number[];
  values: Float32Array | Float64Array;
}

/** A batch of data in NHWC (channels last), plain values. */
export interface CheckData {
  reference: { shape: number[]; values: Float32Array };
  inputs: { shape: number[]; values: Float32Array };
  labels: Int32Array;
}

/** Float64 logits, loss and loss gradient of the built-in network (independent of TF.js). */
export function float64Run(
  config: ResolvedNetConfig,
  params: Record<string, ParamValues>,
  data: CheckData,
): {
  logits: Float64Array;
  loss: number;
  grads: Record<string, Float64Array>;
  /** Loss gradient w.r.t. the reference, channels last like `data`. */
  referenceGrad: Float64Array;
} {
  const t = new Tape();
  const p = paramLeaves(t, params);
  const reference = leaves(t, data.reference.shape, data.reference.values);
  const logits = vbnNet64(
    t,
    config,
    p,
    reference,
    leaves(t, data.inputs.shape, data.inputs.values),
  );
  const loss = softmaxCrossEntropy64(t, logits, data.labels);
  const g = t.backward([loss], [1]);
  const grads = Object.fromEntries(
    Object.entries(p).map(([n, v]) => [n, Float64Array.from(v.ids, (id) => g[id])]),
  );
  const referenceGrad = Float64Array.from(reference.ids, (id) => g[id]);
  return { logits: valuesOf(t, logits), loss: t.value(loss), grads, referenceGrad };
}

/** Float64 loss alone (for finite differences). */
export function float64Loss(
  config: ResolvedNetConfig,
  params: Record<string, ParamValues>,
  data: CheckData,
): number {
  const t = new Tape();
  const logits = vbnNet64(
    t,
    config,
    paramLeaves(t, params),
    leaves(t, data.reference.shape, data.reference.values),
    leaves(t, data.inputs.shape, data.inputs.values),
  );
  return t.value(softmaxCrossEntropy64(t, logits, data.labels));
}

/**
 * Central differences of the float64 loss at chosen coordinates: `coords` lists
 * [parameter name, flat index]. Step h relative to the value's scale.
 */
export function finiteDifferences(
  config: ResolvedNetConfig,
  params: Record<string, ParamValues>,
  data: CheckData,
  coords: [string, number][],
  h = 1e-4,
): Float64Array {
  const out = new Float64Array(coords.length);
  coords.forEach(([name, i], k) => {
    const at = (delta: number) => {
      const values = Float64Array.from(params[name].values);
      values[i] += delta;
      return float64Loss(
        config,
        { ...params, [name]: { shape: params[name].shape, values } },
        data,
      );
    };
    out[k] = (at(h) - at(-h)) / (2 * h);
  });
  return out;
}
