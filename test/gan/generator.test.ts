import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Tape,
  availableBackends,
  batchIndependence,
  createDiscriminator,
  createGenerator,
  ganOptimizer,
  ganStep,
  generator64,
  leaves,
  paramLeaves,
  useBackend,
  valuesOf,
  type GeneratorConfig,
} from 'vbn';
import { leakyReluOf } from '../../src/gan/leaky-relu.js';
import { errorMessage, randn, relErr, twinGanNets } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/** Tiny generators: 8x8 images, two upsamplings, odd and even kernels. */
const CASES: { name: string; config: GeneratorConfig; batch: number; reference: number }[] = [
  { name: 'vbn virtual, k3', config: { norm: 'vbn', kernelSize: 3 }, batch: 3, reference: 4 },
  { name: 'vbn virtual, k4, B=1', config: { norm: 'vbn', kernelSize: 4 }, batch: 1, reference: 5 },
  {
    name: 'vbn reference, k4',
    config: { norm: 'vbn', mode: 'reference', kernelSize: 4 },
    batch: 2,
    reference: 3,
  },
  { name: 'bn, k3', config: { norm: 'bn', kernelSize: 3 }, batch: 3, reference: 0 },
  { name: 'none, k4', config: { norm: 'none', kernelSize: 4 }, batch: 2, reference: 0 },
  // A stride-1 output layer after a third block at full size ('same' with k4 pads 1 and 2).
  {
    name: 'vbn virtual, output stride 1, k4',
    config: { norm: 'vbn', kernelSize: 4, filters: [3, 2, 2], outputStride: 1 },
    batch: 2,
    reference: 3,
  },
  {
    name: 'none, output stride 1, k3',
    config: { norm: 'none', kernelSize: 3, filters: [3, 2, 2], outputStride: 1 },
    batch: 2,
    reference: 0,
  },
];
const BASE: GeneratorConfig = {
  latentDim: 3,
  outputShape: [8, 8, 1],
  filters: [3, 2],
  outputStride: 2,
};

/** float32 images and gradients (w.r.t. every parameter and z) of L = sum(u * G(z)). */
function run(config: GeneratorConfig, batch: number, reference: number) {
  const g = createGenerator({ ...BASE, ...config });
  const params = g.init(5);
  // Non-trivial gamma and beta so that their gradients and effects are checked too.
  for (const [name, v] of Object.entries(params)) {
    if (name.endsWith('/gamma') || name.endsWith('/beta') || name.endsWith('/bias')) {
      v.assign(
        tf.tensor(randn(v.size, name.length * 7, name.endsWith('gamma') ? 1 : 0, 0.3), v.shape),
      );
    }
  }
  const refZ = reference > 0 ? tf.tensor2d(randn(reference * 3, 11), [reference, 3]) : null;
  const z = tf.variable(tf.tensor2d(randn(batch * 3, 12), [batch, 3]));
  const u = randn(batch * 64, 13);
  const images = g.apply(params, refZ, z);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(g.apply(params, refZ, z), tf.tensor(u, images.shape))),
    [...Object.values(params), z],
  );
  const byName = Object.fromEntries(
    Object.entries(params).map(([n, v]) => [n, grads[v.name].dataSync() as Float32Array]),
  );
  const result = {
    g,
    images: images.dataSync() as Float32Array,
    grads: byName,
    zGrad: grads[z.name].dataSync() as Float32Array,
    values: Object.fromEntries(
      Object.entries(params).map(([n, v]) => [n, { shape: v.shape, values: v.dataSync() }]),
    ),
    refZ: refZ ? refZ.dataSync() : null,
    z: z.dataSync(),
    u,
  };
  tf.dispose([images, refZ ?? [], z, ...Object.values(params), ...Object.values(grads)]);
  return result;
}

function oracle(r: ReturnType<typeof run>, batch: number, reference: number) {
  const t = new Tape();
  const p = paramLeaves(t, r.values);
  const z = leaves(t, [batch, 3], r.z);
  const refZ = r.refZ ? leaves(t, [reference, 3], r.refZ) : null;
  const out = generator64(t, r.g.config, p, refZ, z);
  const g = t.backward(out.ids, r.u);
  return {
    images: valuesOf(t, out),
    grads: Object.fromEntries(
      Object.entries(p).map(([n, v]) => [n, Float64Array.from(v.ids, (id) => g[id])]),
    ),
    zGrad: Float64Array.from(z.ids, (id) => g[id]),
  };
}

describe('the generator against a float64 implementation', async () => {
  const backends = (await availableBackends()).filter((b) => b !== 'wasm');
  describe.each(backends)('on %s', (backend) => {
    beforeAll(async () => void (await useBackend(backend)));
    afterAll(async () => void (await useBackend('cpu')));
    for (const c of CASES) {
      it(`${c.name}: images, and gradients w.r.t. every parameter and z`, () => {
        const r = run(c.config, c.batch, c.reference);
        const o = oracle(r, c.batch, c.reference);
        expect(r.images.length).toBe(c.batch * 64);
        expect(Math.max(...r.images.map(Math.abs))).toBeLessThanOrEqual(1);
        expect(relErr(r.images, o.images), 'images').toBeLessThan(1e-5);
        for (const name of r.g.parameterNames) {
          expect(relErr(r.grads[name], o.grads[name]), `grad ${name}`).toBeLessThan(2e-5);
        }
        expect(relErr(r.zGrad, o.zGrad), 'grad z').toBeLessThan(2e-5);
      });
    }
  });
});

describe('batch independence per norm (cpu)', () => {
  const measure = (norm: 'vbn' | 'bn' | 'none', config: GeneratorConfig = BASE) => {
    const g = createGenerator({ ...config, norm, kernelSize: 4 });
    const params = g.init(1);
    const refZ = norm === 'vbn' ? tf.tensor2d(randn(16 * 3, 3), [16, 3]) : null;
    const v = batchIndependence(g, params, refZ, 0);
    tf.dispose([refZ ?? [], ...Object.values(params)]);
    return v;
  };
  it('vbn: a sample depends only on its own z (float32 rounding)', () => {
    expect(measure('vbn')).toBeLessThanOrEqual(1e-6);
  });
  it('bn: a sample changes with its companions', () => {
    expect(measure('bn')).toBeGreaterThan(1e-2);
  });
  it('none: exactly 0', () => {
    expect(measure('none')).toBe(0);
  });
});

describeNative('batch independence on the native backend: vbn and none exactly 0', () => {
  // The default generator's shapes (dense 64 -> 7x7x64, 1-63 companions): its rows go through
  // oneDNN's transposed convolutions and the native plain matrix product.
  const DEFAULT: GeneratorConfig = {};
  afterAll(async () => void (await useBackend('cpu')));
  for (const norm of ['vbn', 'none'] as const) {
    it(norm, async () => {
      await useBackend('native');
      const g = createGenerator({ ...DEFAULT, norm });
      const params = g.init(1);
      const refZ = norm === 'vbn' ? tf.tensor2d(randn(64 * 64, 3), [64, 64]) : null;
      expect(batchIndependence(g, params, refZ, 0)).toBe(0);
      tf.dispose([refZ ?? [], ...Object.values(params)]);
    });
  }
});

describe('ganStep', () => {
  it('updates both networks, lowers nothing to NaN, and leaves the tensor count flat', () => {
    const g = createGenerator({ ...BASE, kernelSize: 4 });
    const d = createDiscriminator({ inputShape: [8, 8, 1], filters: [2, 3], kernelSize: 4 });
    const nets = {
      generator: g,
      discriminator: d,
      gParams: g.init(0),
      dParams: d.init(1),
      gOptimizer: ganOptimizer(2e-4, 0.5),
      dOptimizer: ganOptimizer(2e-4, 0.5),
    };
    const refZ = tf.tensor2d(randn(8 * 3, 1), [8, 3]);
    const z = tf.tensor2d(randn(4 * 3, 2), [4, 3]);
    const real = tf.tensor4d(randn(4 * 64, 3).map(Math.tanh), [4, 8, 8, 1]);
    const before = Object.fromEntries(
      [...Object.entries(nets.gParams), ...Object.entries(nets.dParams)].map(([n, v], i) => [
        `${i}${n}`,
        v.dataSync().slice(),
      ]),
    );
    ganStep(nets, refZ, z, real); // creates the optimizers' slots
    const count = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = ganStep(nets, refZ, z, real);
      expect(Number.isFinite(r.dLoss) && Number.isFinite(r.gLoss)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(count);
    const after = [...Object.entries(nets.gParams), ...Object.entries(nets.dParams)];
    after.forEach(([n, v], i) => {
      if (n.endsWith('/beta') || n.endsWith('/gamma') || n.includes('kernel')) {
        expect(relErr(v.dataSync(), before[`${i}${n}`]), n).toBeGreaterThan(0);
      }
    });
  });

  it('equals a discriminator update on G(z) followed by a generator update, done separately', () => {
    const g = createGenerator({ ...BASE, kernelSize: 3 });
    const d = createDiscriminator({ inputShape: [8, 8, 1], filters: [2, 3], kernelSize: 3 });
    const [fused, plain] = twinGanNets(g, d, 4);
    const refZ = tf.tensor2d(randn(5 * 3, 21), [5, 3]);
    const real = tf.tensor4d(randn(3 * 64, 22).map(Math.tanh), [3, 8, 8, 1]);
    const softplus = (t: tf.Tensor) => tf.mean(tf.softplus(t)) as tf.Scalar;
    for (let step = 0; step < 3; step++) {
      const z = tf.tensor2d(randn(3 * 3, 30 + step), [3, 3]);
      const r = ganStep(fused, refZ, z, real);
      // The textbook order: D on real vs G(z) (no gradient into G), then G against the new D.
      const p = plain;
      const fake = tf.tidy(() => g.apply(p.gParams, refZ, z));
      const dStep = p.dOptimizer.minimize(
        () =>
          tf.add(softplus(tf.neg(d.apply(p.dParams, real))), softplus(d.apply(p.dParams, fake))),
        true,
        Object.values(p.dParams),
      );
      const gStep = p.gOptimizer.minimize(
        () => softplus(tf.neg(d.apply(p.dParams, g.apply(p.gParams, refZ, z)))),
        true,
        Object.values(p.gParams),
      );
      expect([r.dLoss, r.gLoss]).toEqual([dStep!.dataSync()[0], gStep!.dataSync()[0]]);
      tf.dispose([z, fake, dStep!, gStep!]);
    }
    for (const which of ['gParams', 'dParams'] as const) {
      for (const [name, v] of Object.entries(fused[which])) {
        expect(Array.from(v.dataSync()), name).toEqual(Array.from(plain[which][name].dataSync()));
      }
    }
  });
});

describe("the discriminator's leaky ReLU (gradient as dy * step(x, leak))", async () => {
  afterAll(async () => {
    await useBackend('cpu');
  });
  for (const backend of (await availableBackends()).filter((b) => b !== 'wasm')) {
    it(`${backend}: the values and gradients of tf.leakyRelu, bit for bit, and the closed form`, async () => {
      await useBackend(backend);
      const xs = [...randn(200, 41), 0, -0, 1e-30, -1e-30, 3e38, -3e38];
      const us = randn(xs.length, 42);
      for (const leak of [0.2, 0.01, 0]) {
        const f = leakyReluOf(leak);
        const x = tf.tensor4d(xs, [1, 1, 1, xs.length]);
        const u = tf.tensor4d(us, [1, 1, 1, xs.length]);
        const loss = (g: (t: tf.Tensor4D) => tf.Tensor) => (t: tf.Tensor) =>
          tf.sum(tf.mul(u, g(t as tf.Tensor4D)));
        const ours = tf.grad(loss(f))(x).dataSync();
        const theirs = tf
          .grad(loss((t) => tf.leakyRelu(t, leak)))(x)
          .dataSync();
        expect(Array.from(f(x).dataSync())).toEqual(Array.from(tf.leakyRelu(x, leak).dataSync()));
        expect(Array.from(ours)).toEqual(Array.from(theirs));
        const slope = Math.fround(leak);
        const closed = xs.map((v, i) => Math.fround(us[i] * (v > 0 ? 1 : slope)));
        expect(Array.from(ours)).toEqual(closed);
        tf.dispose([x, u]);
      }
    });
  }
});

describe('bad input', () => {
  it('names the rule and the values received', () => {
    expect(errorMessage(() => createGenerator({ outputShape: [30, 30, 1] }))).toBe(
      'createGenerator: outputShape [30,30,1] needs H and W divisible by 2^2 = 4 (filters [64,32,16] with outputStride 1 upsample 2 times)',
    );
    expect(
      errorMessage(() => createGenerator(JSON.parse('{"outputStride":3}') as GeneratorConfig)),
    ).toBe('createGenerator: outputStride must be 1 or 2 but is 3');
    expect(
      errorMessage(() => createGenerator(JSON.parse('{"norm":"layer"}') as GeneratorConfig)),
    ).toBe(`createGenerator: unknown norm "layer" (expected one of 'vbn', 'bn', 'none')`);
    expect(errorMessage(() => createGenerator({ latentDim: 0 }))).toBe(
      'createGenerator: latentDim must be an integer >= 1 but is 0',
    );
    const g = createGenerator({ ...BASE });
    const params = g.init(0);
    const z = tf.zeros([2, 4]);
    expect(errorMessage(() => g.apply(params, tf.zeros([3, 3]), z))).toBe(
      'Generator.apply: z must be float32 of shape [B,3] with B >= 1 but is float32 [2,4]',
    );
    expect(errorMessage(() => g.apply(params, null, tf.zeros([2, 3])))).toBe(
      "Generator.apply: norm 'vbn' needs referenceZ [N,3] but got null",
    );
    const d = createDiscriminator({ inputShape: [8, 8, 1] });
    expect(errorMessage(() => d.apply(d.init(0), tf.zeros([2, 8, 8, 3])))).toBe(
      'Discriminator.apply: images must be float32 of shape [B,8,8,1] with B >= 1 but is float32 [2,8,8,3]',
    );
    tf.dispose([z, ...Object.values(params)]);
  });
});
