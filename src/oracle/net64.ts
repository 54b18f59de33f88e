import type { ResolvedNetConfig } from '../model/config.js';
import { type NodeTensor, type Tape, leaves, stridesOf } from './tape.js';
import { referenceBatchNorm64, virtualBatchNorm64 } from './vbn64.js';

/**
 * The VBN network in float64 on the tape: convolution, VBN, ReLU, average pooling and dense
 * written from their definitions, independent of TensorFlow.js. Inputs are channels-last
 * `[B, H, W, C]` (transpose channels-first data before).
 */

/** TensorFlow's padding rule: 'same' pads (out-1)*s + k - size in total, the smaller half first. */
function padBefore(
  size: number,
  k: number,
  s: number,
  padding: 'valid' | 'same',
): [number, number] {
  if (padding === 'valid') return [Math.floor((size - k) / s) + 1, 0];
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return [out, Math.floor(total / 2)];
}

export function conv2d64(
  t: Tape,
  x: NodeTensor,
  w: NodeTensor,
  stride: number,
  padding: 'valid' | 'same',
): NodeTensor {
  const [b, h, wd, ci] = x.shape;
  const [k, , , co] = w.shape;
  const [oh, pt] = padBefore(h, k, stride, padding);
  const [ow, pl] = padBefore(wd, k, stride, padding);
  const xs = stridesOf(x.shape);
  const ws = stridesOf(w.shape);
  const ids: number[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < co; o++) {
          const terms: number[] = [];
          for (let p = 0; p < k; p++)
            for (let q = 0; q < k; q++) {
              const r = i * stride + p - pt;
              const c = j * stride + q - pl;
              if (r < 0 || r >= h || c < 0 || c >= wd) continue;
              for (let m = 0; m < ci; m++) {
                terms.push(
                  t.mul(
                    x.ids[n * xs[0] + r * xs[1] + c * xs[2] + m],
                    w.ids[p * ws[0] + q * ws[1] + m * ws[2] + o],
                  ),
                );
              }
            }
          ids.push(t.sum(terms));
        }
  return { shape: [b, oh, ow, co], ids };
}

const relu64 = (t: Tape, x: NodeTensor): NodeTensor => ({
  shape: x.shape,
  ids: x.ids.map((id) => t.relu(id)),
});

/** Mean over H and W, then x @ kernel + bias: [B, H, W, C] -> [B, K]. */
function head64(t: Tape, x: NodeTensor, kernel: NodeTensor, bias: NodeTensor): NodeTensor {
  const [b, h, w, c] = x.shape;
  const k = bias.shape[0];
  const pooled: number[][] = [];
  for (let n = 0; n < b; n++) {
    pooled.push(
      Array.from({ length: c }, (_, m) => {
        const vs: number[] = [];
        for (let i = 0; i < h * w; i++) vs.push(x.ids[(n * h * w + i) * c + m]);
        return t.mean(vs);
      }),
    );
  }
  const ids: number[] = [];
  for (let n = 0; n < b; n++)
    for (let o = 0; o < k; o++) {
      ids.push(t.add(t.sum(pooled[n].map((v, m) => t.mul(v, kernel.ids[m * k + o]))), bias.ids[o]));
    }
  return { shape: [b, k], ids };
}

/** Logits `[B, K]` of the network for channels-last inputs, in float64, with every node on `t`. */
export function vbnNet64(
  t: Tape,
  config: ResolvedNetConfig,
  params: Record<string, NodeTensor>,
  reference: NodeTensor,
  inputs: NodeTensor,
): NodeTensor {
  let r = reference;
  let x = inputs;
  config.filters.forEach((_, i) => {
    const opts = {
      mode: config.mode,
      axis: 3,
      batchAxis: 0,
      epsilon: config.epsilon,
      stopReferenceGradient: config.stopReferenceGradient,
      gamma: params[`vbn${i}/gamma`].ids,
      beta: params[`vbn${i}/beta`].ids,
    };
    const yr = conv2d64(t, r, params[`conv${i}/kernel`], config.strides, config.padding);
    const yx = conv2d64(t, x, params[`conv${i}/kernel`], config.strides, config.padding);
    x = relu64(t, virtualBatchNorm64(t, yx, yr, opts));
    r = relu64(t, referenceBatchNorm64(t, yr, opts));
  });
  return head64(t, x, params['dense/kernel'], params['dense/bias']);
}

/** Convenience: leaves for named parameter values. */
export function paramLeaves(
  t: Tape,
  values: Record<string, { shape: number[]; values: ArrayLike<number> }>,
): Record<string, NodeTensor> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, leaves(t, v.shape, v.values)]),
  );
}
