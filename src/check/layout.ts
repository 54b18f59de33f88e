import type { VbnNet } from '../model/net.js';
import type { CheckData } from './float64.js';

/** Plain values with a shape (any float array). */
interface Plain<T extends Float32Array | Float64Array> {
  shape: number[];
  values: T;
}

/** [B, C, H, W] -> [B, H, W, C]. */
export function nchwToNhwc<T extends Float32Array | Float64Array>(x: Plain<T>): Plain<T> {
  const [b, c, h, w] = x.shape;
  const out = new (x.values.constructor as new (n: number) => T)(x.values.length);
  for (let n = 0; n < b; n++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < h * w; i++)
        out[(n * h * w + i) * c + k] = x.values[(n * c + k) * h * w + i];
  return { shape: [b, h, w, c], values: out };
}

/** [B, H, W, C] -> [B, C, H, W]. */
export function nhwcToNchw<T extends Float32Array | Float64Array>(x: Plain<T>): Plain<T> {
  const [b, h, w, c] = x.shape;
  const out = new (x.values.constructor as new (n: number) => T)(x.values.length);
  for (let n = 0; n < b; n++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < h * w; i++)
        out[(n * c + k) * h * w + i] = x.values[(n * h * w + i) * c + k];
  return { shape: [b, c, h, w], values: out };
}

/** The float64 network takes NHWC data. */
export function toChannelsLast(net: VbnNet, d: CheckData): CheckData {
  if (net.config.dataFormat === 'channelsLast') return d;
  return { reference: nchwToNhwc(d.reference), inputs: nchwToNhwc(d.inputs), labels: d.labels };
}
