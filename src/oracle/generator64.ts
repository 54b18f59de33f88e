import { upsamplings, type ResolvedGeneratorConfig } from '../gan/config.js';
import { type NodeTensor, type Tape, stridesOf } from './tape.js';
import { referenceBatchNorm64, virtualBatchNorm64, type Vbn64Options } from './vbn64.js';

/**
 * The GAN generator in float64 on the tape, written from the definitions and independent of
 * TensorFlow.js: dense, transposed convolution (as the scatter x[i] * w -> out[i*s + p - pad]),
 * VBN in two passes (the reference alone, then z against its activations), tanh from exp.
 */

/** x `[B, I]` @ kernel `[I, O]` (+ bias `[O]`). */
export function dense64(t: Tape, x: NodeTensor, kernel: NodeTensor, bias?: NodeTensor): NodeTensor {
  const [b, i] = x.shape;
  const o = kernel.shape[1];
  const ids: number[] = [];
  for (let n = 0; n < b; n++) {
    for (let k = 0; k < o; k++) {
      const terms = Array.from({ length: i }, (_, m) =>
        t.mul(x.ids[n * i + m], kernel.ids[m * o + k]),
      );
      const s = t.sum(terms);
      ids.push(bias ? t.add(s, bias.ids[k]) : s);
    }
  }
  return { shape: [b, o], ids };
}

/**
 * Transposed convolution with stride s and 'same' padding: x `[B, h, w, Cin]`, kernel
 * `[k, k, Cout, Cin]` -> `[B, h*s, w*s, Cout]`. The padding is that of the forward convolution
 * from the output back to x (TensorFlow's rule): total (h-1)*s + k - h*s, the smaller half first.
 */
export function conv2dTranspose64(
  t: Tape,
  x: NodeTensor,
  kernel: NodeTensor,
  s: number,
): NodeTensor {
  const [b, h, w, ci] = x.shape;
  const [k, , co] = kernel.shape;
  const [oh, ow] = [h * s, w * s];
  const padTop = Math.floor(Math.max((h - 1) * s + k - oh, 0) / 2);
  const padLeft = Math.floor(Math.max((w - 1) * s + k - ow, 0) / 2);
  const terms: number[][] = Array.from({ length: b * oh * ow * co }, () => []);
  const xs = stridesOf(x.shape);
  const ks = stridesOf(kernel.shape);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let p = 0; p < k; p++)
          for (let q = 0; q < k; q++) {
            const [r, c] = [i * s + p - padTop, j * s + q - padLeft];
            if (r < 0 || r >= oh || c < 0 || c >= ow) continue;
            for (let o = 0; o < co; o++)
              for (let m = 0; m < ci; m++) {
                const prod = t.mul(
                  x.ids[n * xs[0] + i * xs[1] + j * xs[2] + m],
                  kernel.ids[p * ks[0] + q * ks[1] + o * ks[2] + m],
                );
                terms[((n * oh + r) * ow + c) * co + o].push(prod);
              }
          }
  return { shape: [b, oh, ow, co], ids: terms.map((ts) => t.sum(ts)) };
}

const map = (x: NodeTensor, f: (id: number) => number): NodeTensor => ({
  shape: [...x.shape],
  ids: x.ids.map(f),
});

/** tanh(x) = 1 - 2 / (exp(2x) + 1). */
export function tanh64(t: Tape, x: NodeTensor): NodeTensor {
  const two = t.leaf(2);
  return map(x, (id) => t.shift(t.scale(t.div(two, t.shift(t.exp(t.scale(id, 2)), 1)), -1), 1));
}

/** Adds a per-channel (last axis) bias. */
function addBias(t: Tape, x: NodeTensor, bias: NodeTensor): NodeTensor {
  const c = x.shape[x.shape.length - 1];
  return { shape: [...x.shape], ids: x.ids.map((id, flat) => t.add(id, bias.ids[flat % c])) };
}

/** Images `[B, H, W, C]` of the generator for `z` `[B, latentDim]` (and `referenceZ` for 'vbn'). */
export function generator64(
  t: Tape,
  c: ResolvedGeneratorConfig,
  params: Record<string, NodeTensor>,
  referenceZ: NodeTensor | null,
  z: NodeTensor,
): NodeTensor {
  const up = 2 ** upsamplings(c);
  const [h0, w0] = [c.outputShape[0] / up, c.outputShape[1] / up];
  const reshape = (x: NodeTensor): NodeTensor => ({
    shape: [x.shape[0], h0, w0, c.filters[0]],
    ids: x.ids,
  });
  const opts = (i: number): Vbn64Options => ({
    mode: c.mode,
    axis: 3,
    batchAxis: 0,
    epsilon: c.epsilon,
    stopReferenceGradient: false,
    gamma: params[`norm${i}/gamma`]?.ids,
    beta: params[`norm${i}/beta`]?.ids,
  });
  const relu = (x: NodeTensor) => map(x, (id) => t.relu(id));
  // Per block: [reference activations or null, z activations] -> normalized, ReLU.
  const block = (
    i: number,
    r: NodeTensor | null,
    x: NodeTensor,
  ): [NodeTensor | null, NodeTensor] => {
    if (c.norm === 'none') return [null, relu(x)];
    if (c.norm === 'bn') return [null, relu(referenceBatchNorm64(t, x, opts(i)))];
    return [
      relu(referenceBatchNorm64(t, r!, opts(i))),
      relu(virtualBatchNorm64(t, x, r!, opts(i))),
    ];
  };
  const bias = c.norm === 'none' ? params['dense/bias'] : undefined;
  let r =
    referenceZ && c.norm === 'vbn' ? reshape(dense64(t, referenceZ, params['dense/kernel'])) : null;
  let x = reshape(dense64(t, z, params['dense/kernel'], bias));
  [r, x] = block(0, r, x);
  for (let i = 1; i < c.filters.length; i++) {
    const kernel = params[`deconv${i}/kernel`];
    let y = conv2dTranspose64(t, x, kernel, 2);
    if (c.norm === 'none') y = addBias(t, y, params[`deconv${i}/bias`]);
    [r, x] = block(i, r && conv2dTranspose64(t, r, kernel, 2), y);
  }
  const out = addBias(
    t,
    conv2dTranspose64(t, x, params['out/kernel'], c.outputStride),
    params['out/bias'],
  );
  return tanh64(t, out);
}
