import type * as tf from '@tensorflow/tfjs-core';
import { VbnError } from '../errors.js';
import { upsamplings } from '../gan/config.js';
import type { Generator } from '../gan/generator.js';
import type { ParamTensors } from '../model/net.js';
import { virtualWeight } from '../vbn/normalize.js';
import { disposeStatistics, type ReferenceStatistics } from '../vbn/statistics.js';
import type { ExportInfo } from './classifier-onnx.js';
import { TO_NCHW, TO_NHWC, convTransposeSame, onnxTensor } from './layers-onnx.js';
import { batchNormRelu, freezeAffine, freezeStatistics, vbnRelu } from './norm-onnx.js';
import { OnnxGraph } from './onnx-graph.js';

const NORM_NOTE = {
  vbn: 'VBN against the reference latents (statistics frozen): each image depends on its own z alone',
  bn: "batch norm with the batch's own statistics, as in training: an image depends on the whole batch",
  none: 'no normalization: each image depends on its own z alone',
} as const;

/**
 * The generator at `params` as an ONNX model (opset 17): input `z` `[batch, latentDim]` float32,
 * output `images` `[batch, H, W, C]` in [0, 1] (`(G(z) + 1) / 2`, as `vbn gan-sample` writes
 * them), the batch dimension dynamic. Norm 'vbn': the statistics of `referenceZ` `[N, latentDim]`
 * at these weights are frozen into the graph; 'bn' normalizes with the batch's own statistics, as
 * it ran in training (so an image depends on its batch); 'none' has biases and no norm.
 */
export function generatorToOnnx(
  generator: Generator,
  params: ParamTensors,
  referenceZ: tf.Tensor | null,
  info: ExportInfo = {},
): Uint8Array {
  const c = generator.config;
  const missing = generator.parameterNames.find((name) => !params[name]);
  if (missing) throw new VbnError(`generatorToOnnx: missing parameter '${missing}'`);
  if (c.norm === 'vbn' && !referenceZ) {
    throw new VbnError(`generatorToOnnx: norm 'vbn' needs referenceZ [N,${c.latentDim}]`);
  }
  const stats: ReferenceStatistics[] =
    c.norm === 'vbn' && referenceZ ? generator.referenceStatistics(params, referenceZ) : [];
  const n = referenceZ?.shape[0] ?? 0;
  try {
    const g = new OnnxGraph();
    const normRelu = (i: number, y: string): string => {
      if (c.norm === 'none') return g.node('Relu', [y]);
      const affine = freezeAffine(params[`norm${i}/gamma`], params[`norm${i}/beta`], c.epsilon);
      if (c.norm === 'bn') return batchNormRelu(g, `norm${i}`, y, affine);
      const w = virtualWeight(c.mode, n);
      return vbnRelu(g, `norm${i}`, y, freezeStatistics(stats[i]), w, affine);
    };
    const up = 2 ** upsamplings(c);
    let [h, w] = [c.outputShape[0] / up, c.outputShape[1] / up];
    let dense = g.node('MatMul', ['z', onnxTensor(g, 'dense/kernel', params['dense/kernel'])]);
    if (c.norm === 'none') {
      dense = g.node('Add', [dense, onnxTensor(g, 'dense/bias', params['dense/bias'])]);
    }
    // [B, h w f0] -> [B, h, w, f0] (TF.js' row-major order) -> NCHW.
    const shape = g.int64s('dense/shape', [-1, h, w, c.filters[0]]);
    let x = normRelu(
      0,
      g.node('Transpose', [g.node('Reshape', [dense, shape])], { perm: TO_NCHW }),
    );
    for (let i = 1; i < c.filters.length; i++) {
      const bias = c.norm === 'none' ? params[`deconv${i}/bias`] : undefined;
      x = normRelu(
        i,
        convTransposeSame(g, `deconv${i}`, x, params[`deconv${i}/kernel`], [h, w], 2, bias),
      );
      [h, w] = [2 * h, 2 * w];
    }
    const out = convTransposeSame(
      g,
      'out',
      x,
      params['out/kernel'],
      [h, w],
      c.outputStride,
      params['out/bias'],
    );
    const half = g.constant('half', [0.5], []);
    const one = g.constant('one', [1], []);
    const scaled = g.node('Mul', [g.node('Add', [g.node('Tanh', [out]), one]), half]);
    const images = g.node('Transpose', [scaled], { perm: TO_NHWC }, 'images');
    return g.encode({
      graphName: 'vbn generator',
      inputs: [{ name: 'z', shape: ['batch', c.latentDim] }],
      outputs: [{ name: images, shape: ['batch', ...c.outputShape] }],
      docString: `vbn GAN generator (norm ${c.norm}: ${NORM_NOTE[c.norm]}). Input z [batch, ${c.latentDim}] float32${c.codes > 0 ? ` (its last ${c.codes} entries a one-hot code)` : ''}; output images [batch, ${c.outputShape.join(', ')}] in [0, 1].`,
      metadata: {
        kind: 'generator',
        norm: c.norm,
        mode: c.mode,
        latentDim: String(c.latentDim),
        codes: String(c.codes),
        referenceSize: String(n),
        batchIndependent: String(c.norm !== 'bn'),
        ...info.metadata,
      },
      producerVersion: info.producerVersion ?? '',
    });
  } finally {
    stats.forEach(disposeStatistics);
  }
}
