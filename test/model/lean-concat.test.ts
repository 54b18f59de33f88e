import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createVbnNet, useBackend, type VbnNetConfig } from 'vbn';
import { relErr } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The concat strategy on the fused kernels runs its blocks as one op that keeps only each block's
 * convolution output for backward (src/model/lean-concat.ts). `record` makes VbnNet.apply take
 * the block-by-block path instead (it needs every block's output), which serves as the
 * comparison: the same kernels, each tensor kept by TensorFlow.js' tape.
 */
type Case = { config: VbnNetConfig; n: number; b: number };

function gradients(c: Case, lean: boolean, kernels: 'auto' | 'composed' = 'auto') {
  const net = createVbnNet(c.config);
  const params = net.init(7);
  const [h, w, ch] = c.config.inputShape;
  const ref = tf.randomNormal([c.n, h, w, ch], 0, 1, 'float32', 1);
  const x = tf.randomNormal([c.b, h, w, ch], 0.5, 2, 'float32', 2);
  const numClasses = net.config.numClasses;
  const weights = tf.randomNormal([c.b, numClasses], 0, 1, 'float32', 3);
  const record: Record<string, tf.Tensor> = {};
  const loss = () =>
    tf.sum(tf.mul(net.apply(params, ref, x, lean ? { kernels } : { kernels, record }), weights));
  const { value, grads } = tf.variableGrads(loss as () => tf.Scalar, Object.values(params));
  const names = net.parameterNames;
  const values = [value, ...names.map((name) => grads[params[name].name])].map(
    (t) => t.dataSync().slice() as Float32Array,
  );
  tf.dispose([value, ...Object.values(grads), ref, x, weights, ...Object.values(record)]);
  tf.dispose(Object.values(params));
  return { names: ['loss', ...names], values };
}

const CASES: Case[] = [
  { config: { inputShape: [12, 11, 1], filters: [3, 5], numClasses: 3 }, n: 3, b: 2 },
  {
    config: { inputShape: [9, 9, 2], filters: [1, 8, 19], mode: 'reference', numClasses: 4 },
    n: 2,
    b: 1,
  },
  {
    config: {
      inputShape: [16, 13, 1],
      filters: [8, 4],
      strides: 2,
      padding: 'same',
      stopReferenceGradient: true,
      numClasses: 2,
    },
    n: 4,
    b: 3,
  },
  {
    config: { inputShape: [10, 10, 3], filters: [6], kernelSize: 5, padding: 'same' },
    n: 1,
    b: 2,
  },
];

describeNative('native memory plan: lean concat blocks, reuse of freed buffers', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it("VbnLayerLeanGrad gives VbnLayerGrad's bits, and writes over x only when nothing else holds or sees x's data", async () => {
    await useBackend('native');
    const shape = [5, 4, 3, 6];
    const source = tf.randomNormal(shape, 1, 2, 'float32', 11);
    const xValues = source.dataSync().slice();
    // An engine output (the Add kernel's) that nobody read: what lean concat gives the kernel.
    const x = tf.add(source, 0);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 12);
    const gamma = tf.randomNormal([6], 1, 0.5, 'float32', 13);
    const beta = tf.randomNormal([6], 0, 0.5, 'float32', 14);
    const rowWeights = tf.tensor1d([0, 0, 0, 0.25, 0.25]);
    const attrs = { statsRows: 3, epsilon: 1e-5, relu: true, stop: false };
    const run = (name: string, inputs: tf.NamedTensorMap, a: object) =>
      tf.engine().runKernel(name, inputs, a as tf.NamedAttrMap) as tf.Tensor[];
    const [out, rowStats, hi, lo, variance] = run(
      'VbnLayer',
      { x, gamma, beta, rowWeights },
      attrs,
    );
    const inputs = { dy, x, gamma, beta, rowWeights };
    const expected = run('VbnLayerGrad', { ...inputs, out, hi, lo, rowStats }, attrs);
    const bits = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));
    // x is also held by `held`: the gradient gets a buffer of its own.
    const held = x.clone();
    const copy = run('VbnLayerLeanGrad', inputs, { ...attrs, inPlace: true });
    expect(bits(copy)).toEqual(bits(expected));
    // Read through a copy: dataSync of x's own data would hand it out (and so keep it from reuse).
    const copyOf = (t: tf.Tensor) => {
      const c = tf.add(t, 0);
      const v = Array.from(c.dataSync());
      c.dispose();
      return v;
    };
    expect(copyOf(held)).toEqual(Array.from(xValues));
    tf.dispose([held, ...copy]);
    // Data that someone read out, or a caller's own array, is not written over either.
    const readOut = tf.add(source, 0);
    const seen = readOut.dataSync();
    const callers = Float32Array.from(xValues);
    const own = tf.tensor(callers, shape);
    for (const other of [readOut, own]) {
      const grads = run('VbnLayerLeanGrad', { ...inputs, x: other }, { ...attrs, inPlace: true });
      expect(bits(grads)).toEqual(bits(expected));
      tf.dispose(grads);
    }
    expect(Array.from(seen)).toEqual(Array.from(xValues));
    expect(Array.from(callers)).toEqual(Array.from(xValues));
    // Now x alone: the gradient is written over it.
    const inPlace = run('VbnLayerLeanGrad', inputs, { ...attrs, inPlace: true });
    expect(bits(inPlace)).toEqual(bits(expected));
    expect(Array.from(x.dataSync())).toEqual(Array.from(inPlace[0].dataSync()));
    tf.dispose([
      x,
      source,
      readOut,
      own,
      dy,
      gamma,
      beta,
      rowWeights,
      out,
      rowStats,
      hi,
      lo,
      variance,
    ]);
    tf.dispose([...expected, ...inPlace]);
  });

  it("VbnLayerLeanGrad and VbnLayerPool read given statistics: VbnStats' give the same bits as none, others other results, a partial set is refused", async () => {
    await useBackend('native');
    const shape = [5, 4, 3, 6];
    const x = tf.randomNormal(shape, 1, 2, 'float32', 21);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 22);
    const pooledDy = tf.randomNormal([2, 6], 0, 1, 'float32', 23);
    const gamma = tf.randomNormal([6], 1, 0.5, 'float32', 24);
    const beta = tf.randomNormal([6], 0, 0.5, 'float32', 25);
    const rowWeights = tf.tensor1d([0, 0, 0, 0.25, 0.25]);
    const attrs = { statsRows: 3, epsilon: 1e-5, relu: true, stop: false };
    const run = (name: string, inputs: tf.NamedTensorMap, a: object) =>
      tf.engine().runKernel(name, inputs, a as tf.NamedAttrMap) as tf.Tensor[];
    const one = (name: string, inputs: tf.NamedTensorMap, a: object) => {
      const out = tf.engine().runKernel(name, inputs, a as tf.NamedAttrMap);
      return Array.isArray(out) ? out : [out];
    };
    const bits = (ts: tf.Tensor[]) => {
      const values = ts.map((t) => Array.from(t.dataSync()));
      tf.dispose(ts);
      return values;
    };
    const [hi, lo, variance] = run('VbnStats', { x }, { rows: 3 });
    const own = { hi, lo, variance };
    const other = { hi, lo, variance: tf.mul(variance, 2.5) };
    const affine = { x, gamma, beta, rowWeights };
    const pool = { ...attrs, fromRow: 3 };
    const grads = [
      ...[{ dy }, { dy: pooledDy }].map((d, i) => {
        const a = i === 0 ? attrs : { ...attrs, fromRow: 3 };
        return [undefined, own, other].map((given) =>
          bits(one('VbnLayerLeanGrad', { ...affine, ...d, ...given }, a)),
        );
      }),
      [undefined, own, other].map((given) =>
        bits(one('VbnLayerPool', { ...affine, ...given }, pool)),
      ),
    ];
    for (const [none, ownStats, otherStats] of grads) {
      expect(ownStats).toEqual(none);
      expect(otherStats).not.toEqual(none);
    }
    // VbnLayerPool against given statistics is VbnNormalize against them, then SpatialMean.
    const [normalized, rowStats] = run('VbnNormalize', { ...affine, ...other }, attrs);
    const mean = one('SpatialMean', { x: normalized }, { fromRow: 3 });
    expect(grads[2][2]).toEqual(bits(mean));
    expect(() => one('VbnLayerPool', { ...affine, hi }, pool)).toThrow(
      'VbnLayerPool: the statistics hi, lo and variance are given all three or none, but got hi',
    );
    tf.dispose([x, dy, pooledDy, gamma, beta, rowWeights, hi, lo, variance, other.variance]);
    tf.dispose([normalized, rowStats]);
  });

  it("compute each block's statistics once per step (VbnStats in the forward; no VbnLayer)", async () => {
    await useBackend('native');
    const c = CASES[1];
    const { kernels } = await tf.profile(() => void gradients(c, true));
    const names = kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'VbnStats')).toHaveLength(c.config.filters!.length);
    expect(names).not.toContain('VbnLayer');
  });

  it('give the block-by-block fused path the same loss and gradients, bit for bit', async () => {
    await useBackend('native');
    for (const c of CASES) {
      const lean = gradients(c, true);
      const blockwise = gradients(c, false);
      lean.values.forEach((v, i) => {
        expect(Array.from(v), `${JSON.stringify(c.config)}: ${lean.names[i]}`).toEqual(
          Array.from(blockwise.values[i]),
        );
      });
    }
  });

  it('agree with the composed TensorFlow.js ops on cpu (an independent computation)', async () => {
    for (const c of CASES) {
      await useBackend('native');
      const lean = gradients(c, true);
      await useBackend('cpu');
      const composed = gradients(c, true, 'composed');
      lean.values.forEach((v, i) => {
        // Relative error, or an absolute one for gradients that cancel to ~1e-5 (float32 noise).
        const maxDiff = Math.max(...v.map((a, k) => Math.abs(a - composed.values[i][k])));
        const err = Math.min(relErr(v, composed.values[i]), (maxDiff / 1e-5) * 2e-4);
        expect(err, `${JSON.stringify(c.config)} ${lean.names[i]}`).toBeLessThan(2e-4);
      });
    }
  });

  it("compute the input's gradient only when something upstream of it is differentiated", async () => {
    // tf.variableGrads of the parameters: the first convolution's Conv2DBackpropInput is skipped;
    // with the reference a trainable variable it runs, and the reference gets cpu's gradient.
    await useBackend('native');
    const net = createVbnNet({ inputShape: [10, 10, 1], filters: [3, 4, 5] });
    const params = net.init(3);
    const reference = tf.variable(tf.randomNormal([3, 10, 10, 1], 0, 1, 'float32', 4), true);
    const x = tf.randomNormal([2, 10, 10, 1], 0, 1, 'float32', 5);
    const loss = () => tf.sum(tf.square(net.apply(params, reference, x))) as tf.Scalar;
    const run = async (vars: tf.Variable[]) => {
      let grads: tf.NamedTensorMap = {};
      const p = await tf.profile(() => {
        const r = tf.variableGrads(loss, vars);
        r.value.dispose();
        grads = r.grads;
      });
      const into = p.kernels
        .filter((k) => k.name === 'Conv2DBackpropInput')
        .map((k) => k.outputShapes[0]?.join('x'));
      return { into, grads };
    };
    const paramsOnly = await run(Object.values(params));
    // 10x10 -> 8x8x3 -> 6x6x4 -> 4x4x5 ('valid' 3x3); rows: 3 reference + 2 inputs.
    expect(paramsOnly.into).toEqual(['5x6x6x4', '5x8x8x3']);
    expect(paramsOnly.grads[reference.name]).toBeUndefined();
    const all = await run([...Object.values(params), reference]);
    expect(all.into).toEqual(['5x6x6x4', '5x8x8x3', '5x10x10x1']);
    const lean = all.grads[reference.name].dataSync().slice();
    await useBackend('cpu');
    const composed = (await run([...Object.values(params), reference])).grads[reference.name];
    expect(relErr(lean, composed.dataSync())).toBeLessThan(1e-5);
    tf.dispose([reference, x, ...Object.values(params)]);
    tf.dispose([...Object.values(paramsOnly.grads), ...Object.values(all.grads)]);
  });

  it("a disposed large tensor's memory is reused by the next large one (V8 collects before a large allocation)", () => {
    // 8 x (conv2d -> 256 MiB, dispose): without the collection each new array was allocated
    // beside the uncollected dead ones (RSS grew by 765 MiB when measured).
    const child = join(import.meta.dirname, '..', 'fixtures', 'native-reuse.mjs');
    const r = spawnSync(process.execPath, [child], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { grewMB } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(grewMB).toBeLessThan(400);
  });

  it('keep at most 35% of the bytes the block-by-block path keeps at its peak, and no tensor after', async () => {
    await useBackend('native');
    const c: Case = { config: { inputShape: [32, 32, 1], filters: [8, 16, 32] }, n: 8, b: 8 };
    const peak = async (lean: boolean) =>
      (await tf.profile(() => void gradients(c, lean))).peakBytes;
    const before = tf.memory().numTensors;
    const lean = await peak(true);
    const blockwise = await peak(false);
    expect(tf.memory().numTensors).toBe(before);
    // Kept by the tape: conv outputs y_i and outputs out_i (and every gradient); lean: y_i only.
    expect(lean / blockwise).toBeLessThan(0.35);
  });
});
