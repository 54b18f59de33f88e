import * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';
import { convOut, spatialOf } from '../model/config.js';
import type { ParamTensors, VbnNet } from '../model/net.js';
import { virtualWeight } from '../vbn/normalize.js';
import { disposeStatistics } from '../vbn/statistics.js';
import { TO_NCHW, onnxKernel, onnxTensor, tfPads } from './layers-onnx.js';
import { freezeAffine, freezeStatistics, vbnRelu } from './norm-onnx.js';
import { OnnxGraph } from './onnx-graph.js';

/** What the exported file says about itself (ModelProto's producer version and metadata). */
export interface ExportInfo {
  /** vbn's version, written as the model's producer version. */
  producerVersion?: string;
  /** Extra metadata_props entries (the checkpoint it came from, class names, ...). */
  metadata?: Record<string, string>;
}

/**
 * The network `net` at `params` as an ONNX model (opset 17): input `images` `[batch, H, W, C]`
 * (`[batch, C, H, W]` for a channelsFirst network) float32, output `logits` `[batch, classes]`,
 * the batch dimension dynamic. Each block's reference statistics are computed here from
 * `reference` `[N, ...inputShape]` at these weights and frozen as initializers; the network's
 * mode decides how each example mixes in its own statistics (virtual: weight 1/(N+1)), so an
 * example's logits never depend on its batch. Equal to
 * `net.apply(params, reference, images, { strategy: 'two-pass' })` up to float32 rounding.
 */
export function classifierToOnnx(
  net: VbnNet,
  params: ParamTensors,
  reference: tf.Tensor,
  info: ExportInfo = {},
): Uint8Array {
  const c = net.config;
  const missing = net.parameterNames.find((name) => !params[name]);
  if (missing) throw new VbnError(`classifierToOnnx: missing parameter '${missing}'`);
  const statistics = net.referenceStatistics(params, reference);
  const n = reference.shape[0];
  try {
    const g = new OnnxGraph();
    const input = 'images';
    let x =
      c.dataFormat === 'channelsFirst' ? input : g.node('Transpose', [input], { perm: TO_NCHW });
    let [h, w] = spatialOf(c);
    c.filters.forEach((_, i) => {
      const [ph, pw] = [
        tfPads(h, c.kernelSize, c.strides, c.padding),
        tfPads(w, c.kernelSize, c.strides, c.padding),
      ];
      const y = g.node('Conv', [x, onnxKernel(g, `conv${i}/kernel`, params[`conv${i}/kernel`])], {
        kernel_shape: [c.kernelSize, c.kernelSize],
        strides: [c.strides, c.strides],
        pads: [ph[0], pw[0], ph[1], pw[1]],
      });
      const affine = freezeAffine(params[`vbn${i}/gamma`], params[`vbn${i}/beta`], c.epsilon);
      x = vbnRelu(
        g,
        `vbn${i}`,
        y,
        freezeStatistics(statistics[i]),
        virtualWeight(c.mode, n),
        affine,
      );
      [h, w] = [convOut(h, c), convOut(w, c)];
    });
    // [B, F, h, w] -> [B, F, 1, 1] -> [B, F]: per-plane means (see vbnRelu).
    const pooled = g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: 1 }, 'pool');
    const kernel = onnxTensor(g, 'dense/kernel', params['dense/kernel']);
    const bias = onnxTensor(g, 'dense/bias', params['dense/bias']);
    const logits = g.node('Gemm', [pooled, kernel, bias], {}, 'logits');
    const [s0, s1, s2] = c.inputShape;
    return g.encode({
      graphName: 'vbn classifier',
      inputs: [{ name: input, shape: ['batch', s0, s1, s2] }],
      outputs: [{ name: logits, shape: ['batch', c.numClasses] }],
      docString: `vbn classifier: ${c.filters.length} conv -> VBN (${c.mode}, reference N = ${n}, frozen) -> ReLU blocks, global average pooling, dense. Input images ${c.dataFormat === 'channelsFirst' ? '[batch, C, H, W]' : '[batch, H, W, C]'} float32 as vbn predict feeds them; output logits [batch, classes]. Each example's output depends on itself alone.`,
      metadata: {
        kind: 'classifier',
        mode: c.mode,
        referenceSize: String(n),
        dataFormat: c.dataFormat,
        ...info.metadata,
      },
      producerVersion: info.producerVersion ?? '',
    });
  } finally {
    statistics.forEach(disposeStatistics);
  }
}
