import * as tf from '@tensorflow/tfjs-core';
import { tfSeed } from '../util/random.js';
import { VbnError, shapeString } from '../errors.js';
import { virtualWeight } from '../vbn/normalize.js';
import type { ReferenceStatistics } from '../vbn/statistics.js';
import { KERNELS, blockOps, type BlockOps, type Kernels } from './block-ops.js';
import { leanConcatPool } from './lean-concat.js';
import { checkOneOf } from '../vbn/validate.js';
import {
  STRATEGIES,
  channelsOf,
  resolveNetConfig,
  type ResolvedNetConfig,
  type Strategy,
  type VbnNetConfig,
} from './config.js';

/** Parameters by name; see `parameterNames`. The reference batch is never one of them. */
export type Params = Record<string, tf.Variable>;
/** Anything that holds the parameter tensors by name (variables or plain tensors). */
export type ParamTensors = Record<string, tf.Tensor>;

export interface ApplyOptions {
  /** 'concat' (one pass over [reference; inputs], default) or 'two-pass'. */
  strategy?: Strategy;
  /**
   * two-pass only: statistics from `net.referenceStatistics(params, reference)`, reused across
   * batches for evaluation (no reference pass per batch; no gradient reaches the reference).
   */
  statistics?: ReferenceStatistics[];
  /**
   * Filled with each block's output for the input rows (`block0`, `block1`, ...: `[B, h, w, f]`,
   * NHWC), so a comparison can name the first block where two implementations part. The tensors
   * are kept (outside tidy); the caller disposes them.
   */
  record?: Record<string, tf.Tensor>;
  /** VBN kernels: 'composed' (TF.js ops), 'fused' (native), 'auto' (fused when available). Default 'auto'. */
  kernels?: Kernels;
}

export interface VbnNet {
  /** The configuration with every default applied. */
  readonly config: ResolvedNetConfig;
  /** Parameter names in a stable order: conv{i}/kernel, vbn{i}/gamma, vbn{i}/beta, dense/kernel, dense/bias. */
  readonly parameterNames: readonly string[];
  /** Shape of each parameter. */
  readonly parameterShapes: Readonly<Record<string, number[]>>;
  /** Fresh parameters, deterministic for a seed (He-normal convs, Glorot-uniform dense, gamma 1, beta 0). */
  init(seed: number): Params;
  /** Logits `[B, numClasses]` for `inputs` only (`[B, ...inputShape]`), against `reference` (`[N, ...inputShape]`). */
  apply(
    params: ParamTensors,
    reference: tf.Tensor,
    inputs: tf.Tensor,
    options?: ApplyOptions,
  ): tf.Tensor2D;
  /** Each block's reference statistics for a set of weights (two-pass evaluation). Dispose with disposeStatistics. */
  referenceStatistics(params: ParamTensors, reference: tf.Tensor): ReferenceStatistics[];
}

/** Conv -> VBN -> ReLU blocks, global average pooling over the input examples, dense logits. */
export function createVbnNet(config: VbnNetConfig): VbnNet {
  const c = resolveNetConfig(config);
  const shapes: Record<string, number[]> = {};
  let cin = channelsOf(c);
  c.filters.forEach((f, i) => {
    shapes[`conv${i}/kernel`] = [c.kernelSize, c.kernelSize, cin, f];
    shapes[`vbn${i}/gamma`] = [f];
    shapes[`vbn${i}/beta`] = [f];
    cin = f;
  });
  shapes['dense/kernel'] = [cin, c.numClasses];
  shapes['dense/bias'] = [c.numClasses];
  const names = Object.keys(shapes);

  const expectShape = (fn: string, what: string, t: tf.Tensor): void => {
    if (!(t instanceof tf.Tensor)) throw new VbnError(`${fn}: ${what} must be a tf.Tensor`);
    const ok =
      t.rank === 4 &&
      t.shape.slice(1).every((d, i) => d === c.inputShape[i]) &&
      t.dtype === 'float32';
    if (!ok || t.shape[0] < 1) {
      throw new VbnError(
        `${fn}: ${what} must be float32 of shape [B,${c.inputShape.join(',')}] (${c.dataFormat}) with B >= 1 but is ${t.dtype} ${shapeString(t.shape)}`,
      );
    }
  };
  const param = (params: ParamTensors, name: string): tf.Tensor => {
    const p = params[name];
    if (!p) {
      throw new VbnError(`VbnNet: missing parameter '${name}' (expected ${names.join(', ')})`);
    }
    if (p.shape.join(',') !== shapes[name].join(',')) {
      throw new VbnError(
        `VbnNet: parameter '${name}' has shape ${shapeString(p.shape)} but the network expects ${shapeString(shapes[name])}`,
      );
    }
    return p;
  };
  const toNhwc = (t: tf.Tensor): tf.Tensor4D =>
    (c.dataFormat === 'channelsFirst' ? tf.transpose(t, [0, 2, 3, 1]) : t) as tf.Tensor4D;
  const conv = (params: ParamTensors, i: number, x: tf.Tensor4D): tf.Tensor4D =>
    tf.conv2d(x, param(params, `conv${i}/kernel`) as tf.Tensor4D, c.strides, c.padding);
  const affine = (params: ParamTensors, i: number) => ({
    gamma: param(params, `vbn${i}/gamma`),
    beta: param(params, `vbn${i}/beta`),
    epsilon: c.epsilon,
  });
  const dense = (params: ParamTensors, pooled: tf.Tensor2D): tf.Tensor2D =>
    tf.add(
      tf.matMul(pooled, param(params, 'dense/kernel') as tf.Tensor2D),
      param(params, 'dense/bias'),
    ) as tf.Tensor2D;
  const head = (
    params: ParamTensors,
    ops: BlockOps,
    features: tf.Tensor4D,
    fromRow = 0,
  ): tf.Tensor2D => dense(params, ops.pool(features, fromRow));
  const rows = (n: number, w: number) => new Array<number>(n).fill(w);
  const w = (n: number) => virtualWeight(c.mode, n);

  /** Reference pass: each block's statistics, and the reference activations feeding the next block. */
  const referencePass = (
    params: ParamTensors,
    ops: BlockOps,
    reference: tf.Tensor,
  ): ReferenceStatistics[] => {
    const stats: ReferenceStatistics[] = [];
    let r = toNhwc(reference);
    const n = r.shape[0];
    c.filters.forEach((_, i) => {
      const y = conv(params, i, r);
      if (i < c.filters.length - 1) {
        const l = ops.layer(y, c.stopReferenceGradient, n, rows(n, 0), affine(params, i));
        stats.push(l.stats);
        r = l.out;
      } else {
        stats.push(ops.stats(y, c.stopReferenceGradient, n));
      }
    });
    return stats;
  };

  const keep = (record: Record<string, tf.Tensor> | undefined, name: string, t: tf.Tensor) => {
    if (record) record[name] = tf.keep(tf.clone(t));
  };

  const applyTwoPass = (
    params: ParamTensors,
    ops: BlockOps,
    x: tf.Tensor4D,
    stats: ReferenceStatistics[],
    record?: Record<string, tf.Tensor>,
  ): tf.Tensor2D => {
    if (stats.length !== c.filters.length) {
      throw new VbnError(
        `VbnNet.apply: statistics has ${stats.length} entries but the network has ${c.filters.length} blocks`,
      );
    }
    const b = x.shape[0];
    c.filters.forEach((_, i) => {
      x = ops.normalizeRelu(
        conv(params, i, x),
        stats[i],
        rows(b, w(stats[i].size)),
        affine(params, i),
      );
      keep(record, `block${i}`, x);
    });
    return head(params, ops, x);
  };

  const applyConcat = (
    params: ParamTensors,
    ops: BlockOps,
    r: tf.Tensor4D,
    x: tf.Tensor4D,
    record?: Record<string, tf.Tensor>,
  ): tf.Tensor2D => {
    const n = r.shape[0];
    const b = x.shape[0];
    // One pass over [reference; inputs]: the first n rows give the statistics and are batch-
    // normalized with them; the other rows are normalized against them.
    const weights = [...rows(n, 0), ...rows(b, w(n))];
    let h = tf.concat([r, x], 0);
    if (ops.kind === 'fused' && !record) {
      // The same numbers, keeping for backward only each block's convolution output.
      const blocks = c.filters.map((_, i) => ({
        kernel: param(params, `conv${i}/kernel`) as tf.Tensor4D,
        gamma: param(params, `vbn${i}/gamma`) as tf.Tensor1D,
        beta: param(params, `vbn${i}/beta`) as tf.Tensor1D,
      }));
      const features = leanConcatPool(h, blocks, {
        referenceRows: n,
        rowWeights: weights,
        strides: c.strides,
        padding: c.padding,
        epsilon: c.epsilon,
        stopReferenceGradient: c.stopReferenceGradient,
      });
      return dense(params, features);
    }
    c.filters.forEach((_, i) => {
      const y = conv(params, i, h);
      h = ops.layer(y, c.stopReferenceGradient, n, weights, affine(params, i)).out;
      if (record) keep(record, `block${i}`, tf.slice(h, [n, 0, 0, 0], [b, -1, -1, -1]));
    });
    // Only the input rows (n..) reach the head, whatever the batch sizes (not shape[0] // 2).
    return head(params, ops, h, n);
  };

  return {
    config: c,
    parameterNames: names,
    parameterShapes: shapes,
    init(seed: number): Params {
      return tf.tidy(() => {
        const out: Params = {};
        names.forEach((name, k) => {
          const shape = shapes[name];
          let value: tf.Tensor;
          if (name.endsWith('/gamma')) value = tf.ones(shape);
          else if (name.endsWith('/beta') || name.endsWith('/bias')) value = tf.zeros(shape);
          else if (name.startsWith('conv')) {
            const fanIn = shape[0] * shape[1] * shape[2];
            value = tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', tfSeed(seed, k));
          } else {
            const limit = Math.sqrt(6 / (shape[0] + shape[1]));
            value = tf.randomUniform(shape, -limit, limit, 'float32', tfSeed(seed, k));
          }
          // Unnamed: tf.js variable names are global, and two networks may live at once.
          out[name] = tf.variable(value, true);
        });
        return out;
      });
    },
    apply(params, reference, inputs, options = {}) {
      const strategy = checkOneOf(
        'VbnNet.apply',
        'strategy',
        options.strategy ?? 'concat',
        STRATEGIES,
      );
      if (options.statistics && strategy !== 'two-pass') {
        throw new VbnError(`VbnNet.apply: precomputed statistics need strategy 'two-pass'`);
      }
      if (!options.statistics) expectShape('VbnNet.apply', 'reference', reference);
      expectShape('VbnNet.apply', 'inputs', inputs);
      return tf.tidy(() => {
        const x = toNhwc(inputs);
        const rec = options.record;
        const ops = blockOps(
          checkOneOf('VbnNet.apply', 'kernels', options.kernels ?? 'auto', KERNELS),
        );
        if (strategy === 'concat') return applyConcat(params, ops, toNhwc(reference), x, rec);
        if (options.statistics) return applyTwoPass(params, ops, x, options.statistics, rec);
        return applyTwoPass(params, ops, x, referencePass(params, ops, reference), rec);
      });
    },
    referenceStatistics(params, reference) {
      expectShape('VbnNet.referenceStatistics', 'reference', reference);
      // tidy keeps every tensor reachable from the returned objects.
      return tf.tidy(
        () => referencePass(params, blockOps('auto'), reference) as unknown as tf.TensorContainer,
      ) as unknown as ReferenceStatistics[];
    },
  };
}
