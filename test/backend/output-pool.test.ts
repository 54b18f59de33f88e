import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ganOptimizer, useBackend } from 'vbn';
import * as K from '../../src/backend/kernel-names.js';
import { runFused } from '../../src/backend/kernel-names.js';
import { vbnLayerOp } from '../../src/backend/fused-ops.js';
import { OutputPool } from '../../src/backend/output-pool.js';
import { randn, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The native backend reuses a disposed output's array for a later output of the same length
 * (src/backend/output-pool.ts). Reuse must never change data that something can still see: an
 * array read out by dataSync, a caller's own array, a view of an array (the cpu Slice, Unpack and
 * Split return subarrays), an array two tensors share. Checked on the pool alone and end to end on
 * the native backend, where every value is compared with float32 arithmetic done here.
 */

describe('OutputPool', () => {
  const LENGTH = 8;
  const pool = () => new OutputPool(1024, 1 << 20);
  const heldArray = (p: OutputPool) => {
    const a = p.track(new Float32Array(LENGTH).fill(7));
    p.held(a);
    return a;
  };

  it('gives a disposed array back for the same length, zeroed, and for no other length', () => {
    const p = pool();
    const a = heldArray(p);
    expect(p.give(a)).toBe(true);
    expect(p.take(LENGTH + 1)).toBeNull();
    const b = p.take(LENGTH);
    expect(b).toBe(a);
    expect(Array.from(b!)).toEqual(new Array(LENGTH).fill(0));
    expect(p.take(LENGTH)).toBeNull();
  });

  it('keeps an array that was read out, shared by two tensors, viewed, or never tracked', () => {
    const p = pool();
    const read = heldArray(p);
    p.escaped(read);
    const twice = heldArray(p);
    p.held(twice);
    const viewed = heldArray(p);
    p.held(viewed.subarray(2, 4));
    const readView = heldArray(p);
    p.escaped(readView.subarray(1));
    const viewedFirst = p.track(new Float32Array(LENGTH));
    p.held(viewedFirst.subarray(0, 4));
    p.held(viewedFirst);
    const callers = new Float32Array(LENGTH);
    p.held(callers);
    for (const a of [read, twice, viewed, readView, viewedFirst, callers])
      expect(p.give(a)).toBe(false);
    expect(p.take(LENGTH)).toBeNull();
  });

  it('takes an array once, and no array that never became a tensor', () => {
    const p = pool();
    const a = heldArray(p);
    expect(p.give(a)).toBe(true);
    expect(p.give(a)).toBe(false);
    const fresh = p.track(new Float32Array(LENGTH));
    expect(p.give(fresh)).toBe(false);
  });

  it('holds at most its byte limit, and reuses no array longer than its length limit', () => {
    const p = new OutputPool(LENGTH, 3 * 4 * LENGTH);
    const arrays = [0, 1, 2, 3].map(() => heldArray(p));
    expect(arrays.map((a) => p.give(a))).toEqual([true, true, true, false]);
    expect(p.bytes).toBe(3 * 4 * LENGTH);
    const long = p.track(new Float32Array(LENGTH + 1));
    p.held(long);
    expect(p.give(long)).toBe(false);
  });
});

describeNative('native outputs reuse disposed arrays without changing visible data', () => {
  // [ROWS, COLS]: above the engine's element-wise threshold (4096 elements).
  const [ROWS, COLS] = [8, 1024];
  const N = ROWS * COLS;
  const av = randn(N, 1);
  const bv = randn(N, 2);
  const product = Float32Array.from(av, (v, i) => Math.fround(v * bv[i]));
  const sum = Float32Array.from(av, (v, i) => Math.fround(v + bv[i]));
  let a: tf.Tensor2D;
  let b: tf.Tensor2D;
  const stored = (t: tf.Tensor) =>
    (tf.backend() as MathBackendCPU).data.get(t.dataId).values as Float32Array;
  /**
   * Outputs of every length the tests free, made and disposed again and again; never a*b (the
   * values the tests read out), so a read-out array that was reused would show it.
   */
  const churn = () => {
    for (let i = 0; i < 4; i++) {
      tf.tidy(() => {
        const whole = tf.add(a, b);
        tf.sub(a, b);
        tf.add(tf.slice(tf.reshape(a, [N]), 0, N / 2), 1);
        tf.add(tf.slice(whole, [0, 0], [ROWS / 2, COLS]), 0);
      });
    }
  };

  beforeAll(async () => {
    await useBackend('native');
    a = tf.tensor2d(av, [ROWS, COLS]);
    b = tf.tensor2d(bv, [ROWS, COLS]);
  });
  afterAll(async () => {
    tf.dispose([a, b]);
    await tf.setBackend('cpu');
  });

  it('reuses: an output takes the array of the output of its length disposed before it', () => {
    const first = tf.mul(a, b);
    const array = stored(first);
    first.dispose();
    const second = tf.mul(a, b);
    expect(stored(second)).toBe(array);
    expect(second.dataSync()).toEqual(product);
    second.dispose();
  });

  it('an array read by dataSync keeps its values after its tensor is disposed', () => {
    const t = tf.mul(a, b);
    const values = t.dataSync();
    t.dispose();
    churn();
    expect(values).toEqual(product);
  });

  it("the caller's array of tf.tensor keeps its values", () => {
    const mine = randn(N, 3);
    const own = Float32Array.from(mine);
    const t = tf.tensor2d(own, [ROWS, COLS]);
    const u = tf.mul(t, 1);
    tf.dispose([t, u]);
    churn();
    expect(own).toEqual(mine);
  });

  it('views made by unstack and split keep their values after the viewed tensor is disposed', () => {
    const whole = tf.add(a, b);
    const rows = tf.unstack(whole);
    const halves = tf.split(whole, 2, 0);
    whole.dispose();
    churn();
    rows.forEach((r, i) => expect(r.dataSync()).toEqual(sum.subarray(i * COLS, (i + 1) * COLS)));
    expect(halves[1].dataSync()).toEqual(sum.subarray(N / 2));
    tf.dispose([...rows, ...halves]);
  });

  it('random programs of element-wise ops, slices, reads and disposals agree with float32 arithmetic', () => {
    let seed = 99;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    type Live = { t: tf.Tensor; want: Float32Array };
    const live: Live[] = [
      { t: tf.clone(a), want: av },
      { t: tf.clone(b), want: bv },
    ];
    const reads: { values: Float32Array; want: Float32Array }[] = [];
    for (let step = 0; step < 300; step++) {
      const x = live[next(live.length)];
      const y = live[next(live.length)];
      const op = next(5);
      if (op === 0) {
        live.push({ t: tf.add(x.t, y.t), want: x.want.map((v, i) => Math.fround(v + y.want[i])) });
      } else if (op === 1) {
        live.push({ t: tf.mul(x.t, y.t), want: x.want.map((v, i) => Math.fround(v * y.want[i])) });
      } else if (op === 2) {
        const half = tf.slice(x.t, [ROWS / 2, 0], [ROWS / 2, COLS]);
        live.push({
          t: tf.concat([half, half]),
          want: x.want.map((_, i) => x.want[N / 2 + (i % (N / 2))]),
        });
        half.dispose();
      } else if (op === 3) {
        reads.push({ values: x.t.dataSync() as Float32Array, want: Float32Array.from(x.want) });
      } else if (live.length > 2) {
        const [gone] = live.splice(next(live.length), 1);
        gone.t.dispose();
      }
    }
    for (const { t, want } of live) expect(t.dataSync()).toEqual(want);
    for (const { values, want } of reads) expect(values).toEqual(want);
    tf.dispose(live.map((l) => l.t));
  });
});

describeNative('native kernels that take an output unzeroed write every element of it', () => {
  // Each case runs once, then again after outputs of its lengths (and its gradients'
  // intermediates') were filled with NaN and disposed into the pool: an element a kernel leaves
  // unwritten stays NaN. The engine's kernels are deterministic: both runs give the same bits.
  const poison = (n: number) => {
    tf.tidy(() => {
      for (let i = 0; i < 12; i++) tf.mul(tf.fill([n], 1), NaN);
    });
  };
  const outputs = (f: () => tf.Tensor[]) => {
    const r: { shape: number[]; values: Float64Array }[] = [];
    tf.tidy(() => {
      for (const t of f()) r.push({ shape: t.shape, values: Float64Array.from(t.dataSync()) });
    });
    return r;
  };
  const t = (shape: number[], seed: number) => tf.tensor(randn(size(shape), seed), shape);
  const conv = () => {
    const [x, w] = [t([2, 9, 8, 3], 1), t([3, 3, 3, 40], 2)];
    const dy = t([2, 7, 6, 40], 3);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), dy)),
    );
    return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'), ...g([x, w])];
  };
  const cases: Record<string, () => tf.Tensor[]> = {
    'Conv2D, Conv2DBackpropInput': conv,
    BatchMatMul: () => [
      tf.matMul(t([3, 70], 4), t([70, 90], 5)),
      tf.matMul(t([2, 3, 70], 6), t([2, 70, 90], 7)),
    ],
    'VbnLayer, VbnLayerGrad (dx)': () => {
      const [x, gamma, beta] = [t([6, 5, 4, 30], 8), t([30], 9), t([30], 10)];
      const w = tf.tensor1d([0, 0, 0, 0.25, 0.25, 0.25]);
      const f = (a: tf.Tensor) => vbnLayerOp(a, 3, gamma, beta, w, 1e-5, false).out;
      return [f(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), t([6, 5, 4, 30], 11))))(x)];
    },
    'VbnNormalize, VbnLayerLeanGrad (dx not in place)': () => {
      const [x, gamma, beta, dy] = [
        t([6, 5, 4, 30], 17),
        t([30], 18),
        t([30], 19),
        t([6, 5, 4, 30], 20),
      ];
      const rowWeights = tf.tensor1d([0, 0, 0, 0.25, 0.25, 0.25]);
      const [hi, lo, variance] = runFused(K.VbnStats, { x }, { rows: 3 });
      const affine = { x, gamma, beta, rowWeights, hi, lo, variance };
      const attrs = { statsRows: 3, epsilon: 1e-5, relu: true, stop: false, inPlace: false };
      return [
        ...runFused(K.VbnNormalize, affine, { epsilon: 1e-5, relu: false }),
        ...runFused(K.VbnLayerLeanGrad, { ...affine, dy }, attrs),
      ];
    },
    'Conv2DBackpropInput with a stride beyond the filter (inputs no output reads)': () => {
      const [x, w] = [t([2, 9, 9, 3], 21), t([1, 1, 3, 8], 22)];
      const dy = t([2, 5, 5, 8], 23);
      const f = (a: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), dy));
      return [tf.grad(f)(x)];
    },
    AdamUpdate: () => {
      const v = tf.variable(t([50, 100], 24));
      const optimizer = ganOptimizer(1e-3, 0.5);
      optimizer.applyGradients([{ name: v.name, tensor: t([50, 100], 25) }]);
      const out = tf.add(v, 0);
      v.dispose();
      optimizer.dispose();
      return [out];
    },
    'element-wise, Slice, PadV2': () => {
      const [a, b] = [t([50, 100], 12), t([50, 100], 13)];
      const [c, d] = [t([10, 10], 15), t([10, 10], 16)];
      return [
        tf.add(c, d),
        tf.leakyRelu(c, 0.2),
        tf.add(a, b),
        tf.mul(a, tf.tensor1d(randn(100, 14))),
        tf.leakyRelu(a, 0.2),
        tf.step(a, 0.1),
        tf.slice(a, [10, 0], [30, 100]),
        tf.pad(
          a,
          [
            [25, 25],
            [0, 0],
          ],
          0,
        ),
        tf.sqrt(tf.abs(a)),
      ];
    },
  };

  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [name, f] of Object.entries(cases)) {
    it(name, async () => {
      await useBackend('native');
      const want = outputs(f);
      // Every length the case makes, its outputs' and its intermediates' alike.
      const lengths = new Set(want.map((w) => w.values.length));
      const inner = [30, 40, 100, 2 * 9 * 8 * 3, 3 * 3 * 3 * 40, 2 * 7 * 6 * 40, 2 * 9 * 9 * 3];
      for (const n of [...lengths, ...inner, 6 * 5 * 4 * 30, 50 * 100, 100 * 100, 2 * 5 * 5 * 8])
        poison(n);
      const got = outputs(f);
      got.forEach((g, i) => {
        expect(g.shape).toEqual(want[i].shape);
        expect(g.values.every(Number.isFinite)).toBe(true);
        expect(g.values).toEqual(want[i].values);
      });
    });
  }
});
