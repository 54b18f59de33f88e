import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  Tape,
  createVbnNet,
  leaves,
  paramLeaves,
  trainStep,
  valuesOf,
  vbnNet64,
  type Strategy,
  type VbnNetConfig,
} from 'vbn';
import { randn, relErr, size } from '../support/helpers.js';
import { describeBackends } from '../support/backends.js';

interface NetCase {
  name: string;
  config: VbnNetConfig;
  reference: number;
  batches: number[];
}

const CASES: NetCase[] = [
  {
    name: 'valid 3x3 stride 1, two blocks, virtual',
    config: { inputShape: [8, 8, 1], filters: [3, 4], numClasses: 3 },
    reference: 4,
    batches: [1, 3, 4, 9],
  },
  {
    name: "'same' stride 2, three blocks, RGB-like input",
    config: { inputShape: [9, 7, 2], filters: [2, 3, 4], strides: 2, padding: 'same' },
    reference: 5,
    batches: [1, 7],
  },
  {
    name: 'reference mode, kernel 2',
    config: { inputShape: [7, 7, 1], filters: [3, 2], kernelSize: 2, mode: 'reference' },
    reference: 3,
    batches: [2, 6],
  },
  {
    name: 'stopReferenceGradient, channels-first input',
    config: {
      inputShape: [2, 8, 8],
      filters: [3],
      dataFormat: 'channelsFirst',
      stopReferenceGradient: true,
      padding: 'same',
    },
    reference: 4,
    batches: [1, 5],
  },
];

/** Logits and the gradient of sum(logits * U) for every parameter. */
function run(c: NetCase, strategy: Strategy, seed: number, batch: number) {
  const net = createVbnNet(c.config);
  const params = net.init(seed);
  const shape = net.config.inputShape;
  const refValues = randn(c.reference * size(shape), seed + 1);
  const xValues = randn(batch * size(shape), seed + 2, 0.3, 1.5);
  const u = randn(batch * net.config.numClasses, seed + 3);
  const out = tf.tidy(() => {
    const ref = tf.tensor4d(refValues, [c.reference, ...shape]);
    const x = tf.tensor4d(xValues, [batch, ...shape]);
    const U = tf.tensor2d(u, [batch, net.config.numClasses]);
    const logits = net.apply(params, ref, x, { strategy });
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(net.apply(params, ref, x, { strategy }), U)) as tf.Scalar,
      Object.values(params),
    );
    return {
      logits: logits.dataSync().slice(),
      grads: Object.fromEntries(
        net.parameterNames.map((n) => [n, grads[params[n].name].dataSync().slice()]),
      ),
    };
  });
  const paramValues = Object.fromEntries(
    net.parameterNames.map((n) => [
      n,
      { shape: params[n].shape, values: params[n].dataSync().slice() },
    ]),
  );
  tf.dispose(Object.values(params));
  return { ...out, net, paramValues, refValues, xValues, u };
}

/** The same quantities from the float64 network. */
function oracle(r: ReturnType<typeof run>, c: NetCase, batch: number) {
  const t = new Tape();
  const cfg = r.net.config;
  const s = cfg.inputShape;
  const toLast = (vals: Float32Array, n: number) => {
    if (cfg.dataFormat === 'channelsLast') return { shape: [n, ...s], values: vals };
    const [ch, h, w] = s;
    const out = new Float64Array(vals.length);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < ch; k++)
        for (let i = 0; i < h * w; i++)
          out[(b * h * w + i) * ch + k] = vals[(b * ch + k) * h * w + i];
    return { shape: [n, h, w, ch], values: out };
  };
  const ref = toLast(r.refValues, c.reference);
  const x = toLast(r.xValues, batch);
  const p = paramLeaves(t, r.paramValues);
  const logits = vbnNet64(
    t,
    cfg,
    p,
    leaves(t, ref.shape, ref.values),
    leaves(t, x.shape, x.values),
  );
  const g = t.backward(logits.ids, r.u);
  return {
    logits: valuesOf(t, logits),
    grads: Object.fromEntries(
      Object.entries(p).map(([n, v]) => [n, Float64Array.from(v.ids, (id) => g[id])]),
    ),
  };
}

describeBackends(
  'the network on %s: concat and two-pass agree with each other and with float64',
  () => {
    for (const c of CASES) {
      for (const batch of c.batches) {
        it(`${c.name}, batch ${batch} (N = ${c.reference})`, () => {
          const a = run(c, 'concat', 3, batch);
          const b = run(c, 'two-pass', 3, batch);
          const o = oracle(a, c, batch);
          expect(a.logits.length).toBe(batch * a.net.config.numClasses);
          expect(relErr(a.logits, b.logits), 'logits concat vs two-pass').toBeLessThan(1e-5);
          expect(relErr(a.logits, o.logits), 'logits concat vs float64').toBeLessThan(1e-5);
          expect(relErr(b.logits, o.logits), 'logits two-pass vs float64').toBeLessThan(1e-5);
          for (const name of a.net.parameterNames) {
            expect(
              relErr(a.grads[name], b.grads[name]),
              `grad ${name} concat vs two-pass`,
            ).toBeLessThan(1e-5);
            expect(
              relErr(a.grads[name], o.grads[name]),
              `grad ${name} concat vs float64`,
            ).toBeLessThan(1e-5);
          }
        });
      }
    }

    it('channels-first input gives the logits of channels-last input transposed', () => {
      const first = createVbnNet({
        inputShape: [2, 8, 8],
        filters: [3, 2],
        dataFormat: 'channelsFirst',
      });
      const last = createVbnNet({ inputShape: [8, 8, 2], filters: [3, 2] });
      const params = first.init(5);
      const [a, b] = tf.tidy(() => {
        const ref = tf.tensor4d(randn(4 * 128, 6), [4, 8, 8, 2]);
        const x = tf.tensor4d(randn(3 * 128, 7), [3, 8, 8, 2]);
        const t = (v: tf.Tensor) => tf.transpose(v, [0, 3, 1, 2]);
        return [
          first.apply(params, t(ref), t(x), { strategy: 'concat' }).dataSync().slice(),
          last.apply(params, ref, x, { strategy: 'two-pass' }).dataSync().slice(),
        ];
      });
      expect(relErr(a, b)).toBeLessThan(1e-6);
      tf.dispose(Object.values(params));
    });

    it('two-pass with precomputed reference statistics equals the full two-pass', () => {
      const net = createVbnNet({ inputShape: [8, 8, 1], filters: [3, 4] });
      const params = net.init(8);
      const ref = tf.tensor4d(randn(4 * 64, 9), [4, 8, 8, 1]);
      const x = tf.tensor4d(randn(6 * 64, 10), [6, 8, 8, 1]);
      const stats = net.referenceStatistics(params, ref);
      const a = net.apply(params, ref, x, { strategy: 'two-pass', statistics: stats }).dataSync();
      const b = net.apply(params, ref, x, { strategy: 'two-pass' }).dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
      tf.dispose([
        ref,
        x,
        ...Object.values(params),
        ...stats.flatMap((s) => [s.mean, s.variance, s.meanOfSquares, s.pivot, s.offset]),
      ]);
    });

    it('a few Adam steps from the same seed give the same losses with both strategies', () => {
      const losses: Record<Strategy, number[]> = { concat: [], 'two-pass': [] };
      for (const strategy of ['concat', 'two-pass'] as Strategy[]) {
        const net = createVbnNet({ inputShape: [8, 8, 1], filters: [4, 4] });
        const params = net.init(11);
        const opt = tf.train.adam(0.01);
        const ref = tf.tensor4d(randn(6 * 64, 12), [6, 8, 8, 1]);
        for (let step = 0; step < 6; step++) {
          const x = tf.tensor4d(randn(5 * 64, 100 + step), [5, 8, 8, 1]);
          const y = tf.tensor1d([0, 1, 1, 0, 1], 'int32');
          losses[strategy].push(
            trainStep(net, params, opt, ref, x, y, { strategy, loss: 'softmax-cross-entropy' })
              .loss,
          );
          tf.dispose([x, y]);
        }
        tf.dispose([ref, ...Object.values(params)]);
        opt.dispose();
      }
      expect(losses.concat[5]).not.toBe(losses.concat[0]);
      expect(relErr(losses['two-pass'], losses.concat)).toBeLessThan(1e-5);
    });

    it('keeps the tensor count flat over training steps', () => {
      const net = createVbnNet({ inputShape: [8, 8, 1], filters: [3] });
      const params = net.init(1);
      const opt = tf.train.adam(0.01);
      const ref = tf.tensor4d(randn(4 * 64, 2), [4, 8, 8, 1]);
      const x = tf.tensor4d(randn(3 * 64, 3), [3, 8, 8, 1]);
      const y = tf.tensor1d([0, 1, 0], 'int32');
      const step = (strategy: Strategy) =>
        trainStep(net, params, opt, ref, x, y, { strategy, loss: 'hinge' });
      step('concat');
      step('two-pass');
      const before = tf.memory().numTensors;
      for (let i = 0; i < 30; i++) step(i % 2 ? 'concat' : 'two-pass');
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ref, x, y, ...Object.values(params)]);
      opt.dispose();
    });
  },
);

describe('network configuration errors', () => {
  it('names the problem', () => {
    expect(() => createVbnNet({ inputShape: [4, 4, 1], filters: [2, 2], kernelSize: 3 })).toThrow(
      /createVbnNet: block 1 would have an empty output \(0x0\)/,
    );
    expect(() => createVbnNet({ inputShape: [4, 4] as never })).toThrow(
      /inputShape must be \[H, W, C\]/,
    );
    const net = createVbnNet({ inputShape: [6, 6, 1], filters: [2] });
    const p = net.init(0);
    expect(() => net.apply(p, tf.zeros([2, 6, 6, 1]), tf.zeros([3, 5, 6, 1]))).toThrow(
      'VbnNet.apply: inputs must be float32 of shape [B,6,6,1] (channelsLast) with B >= 1 but is float32 [3,5,6,1]',
    );
    expect(() => net.apply({}, tf.zeros([2, 6, 6, 1]), tf.zeros([3, 6, 6, 1]))).toThrow(
      "VbnNet: missing parameter 'conv0/kernel'",
    );
    expect(() =>
      net.apply(p, tf.zeros([2, 6, 6, 1]), tf.zeros([3, 6, 6, 1]), { strategy: 'x' as Strategy }),
    ).toThrow(/unknown strategy "x"/);
  });
});

describe('initialization', () => {
  it('is deterministic for every seed, 0 included (tf.js treats a seed of 0 as none)', () => {
    const net = createVbnNet({ inputShape: [8, 8, 1], filters: [3, 4] });
    for (const seed of [0, 1, 7]) {
      const a = net.init(seed);
      const b = net.init(seed);
      for (const n of net.parameterNames)
        expect(Array.from(a[n].dataSync()), `${n} seed ${seed}`).toEqual(
          Array.from(b[n].dataSync()),
        );
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
    const a = net.init(0);
    const c = net.init(1);
    expect(Array.from(a['conv0/kernel'].dataSync())).not.toEqual(
      Array.from(c['conv0/kernel'].dataSync()),
    );
    tf.dispose([...Object.values(a), ...Object.values(c)]);
  });
});
