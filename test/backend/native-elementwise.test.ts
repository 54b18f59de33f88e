import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { loadAddon } from '../../src/backend/node/native.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/backend/node/addon-spec.js';
import { NATIVE_FROM, engineBroadcast } from '../../src/backend/node/elementwise-kernels.js';
import { randn, size } from '../support/helpers.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The engine's element-wise kernels (native/src/elementwise.cc, registered by
 * src/backend/node/elementwise-kernels.ts) must give the cpu backend's values, shapes and dtypes
 * bit for bit: on random shapes from NATIVE_FROM elements up (below it the loop kernels run), with
 * every broadcast form they take, zeros, infinities and NaN, and the cases they leave to cpu
 * (other dtypes, general broadcasting). The addon itself is checked against float64 arithmetic
 * rounded to float32, and for its argument errors.
 */

type Result = { shape: number[]; dtype: string; values: number[] };

async function on(backend: 'cpu' | 'native', f: () => tf.Tensor): Promise<Result> {
  await useBackend(backend);
  return tf.tidy(() => {
    const t = f();
    return { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
  });
}

/** Object.is per element: NaN equals NaN, and -0 differs from 0. */
const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

async function agree(f: () => tf.Tensor): Promise<void> {
  const cpu = await on('cpu', f);
  const native = await on('native', f);
  expect(native.shape).toEqual(cpu.shape);
  expect(native.dtype).toBe(cpu.dtype);
  expect(sameBits(native.values, cpu.values)).toBe(true);
}

const rng = (() => {
  let s = 4242;
  return (n: number) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % n;
  };
})();

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1];

/** Normal values with about one in 50 replaced by a special one (the same for the same seed). */
function valuesOf(n: number, seed: number): Float32Array {
  const v = randn(n, seed);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    if ((s >>> 8) % 50 === 0) v[i] = SPECIAL[(s >>> 16) % SPECIAL.length];
  }
  return v;
}
const float = (shape: number[], seed: number) => tf.tensor(valuesOf(size(shape), seed), shape);

/** A random [B, H, W, C] with at least NATIVE_FROM elements. */
function largeShape(): number[] {
  const [h, w, c] = [4 + rng(20), 4 + rng(20), 1 + rng(24)];
  return [Math.ceil(NATIVE_FROM / (h * w * c)) + rng(3), h, w, c];
}

const OPS = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
const REFERENCE = {
  add: (x: number, y: number) => x + y,
  sub: (x: number, y: number) => x - y,
  mul: (x: number, y: number) => x * y,
  div: (x: number, y: number) => x / y,
};

/** The message of what f throws (fails when it throws nothing). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describeNative('native element-wise kernels against the cpu backend', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('engineBroadcast takes equal shapes, one-element operands and trailing dimensions only', () => {
    expect(engineBroadcast([2, 3, 4], [2, 3, 4])).toEqual([2, 3, 4]);
    expect(engineBroadcast([2, 3, 4], [])).toEqual([2, 3, 4]);
    expect(engineBroadcast([1], [2, 3, 4])).toEqual([2, 3, 4]);
    expect(engineBroadcast([3, 4], [2, 3, 4])).toEqual([2, 3, 4]);
    expect(engineBroadcast([2, 3, 4], [4])).toEqual([2, 3, 4]);
    expect(engineBroadcast([2, 1, 4], [2, 3, 4])).toBeNull();
    expect(engineBroadcast([1, 1], [3])).toBeNull(); // the rank goes up: cpu
    expect(engineBroadcast([2, 3], [3, 2])).toBeNull();
  });

  it('Add, Sub, Multiply, RealDiv: equal shapes, one element and trailing dimensions either side', async () => {
    for (let c = 0; c < 48; c++) {
      const op = Object.values(OPS)[c % 4];
      const shape = largeShape();
      const pick = Math.floor(c / 4) % 6;
      const tail = shape.slice(1 + rng(3));
      await agree(() => {
        const x = float(shape, c);
        if (pick === 0) return op(x, float(shape, c + 100));
        if (pick === 1) return op(x, tf.scalar(SPECIAL[c % SPECIAL.length] || -0.75));
        if (pick === 2) return op(tf.tensor([1.25], [1]), x);
        if (pick === 3) return op(x, float(tail, c + 200));
        if (pick === 4) return op(float(tail, c + 300), x);
        return op(x, tf.scalar(0)); // division by zero: infinities and NaN
      });
    }
  });

  it('leaves general broadcasting, rank-raising one-element operands and int32 to cpu', async () => {
    const shape = [8, 16, 16, 4];
    for (const op of Object.values(OPS)) {
      await agree(() => op(float(shape, 1), float([8, 1, 1, 4], 2)));
      await agree(() => op(float([1, 1, 1, 1, 1], 3), float(shape, 4)));
      const ints = (seed: number) =>
        tf.tensor(
          Array.from(randn(size(shape), seed), (v) => Math.round(v * 10) + 1),
          shape,
          'int32',
        );
      await agree(() => op(ints(5), ints(6)));
    }
  });

  it('LeakyRelu and Step: random shapes and slopes, zeros, infinities and NaN, and int32', async () => {
    for (let c = 0; c < 16; c++) {
      const shape = largeShape();
      const alpha = [0.2, 0, -3, 0.1][c % 4];
      await agree(() => tf.leakyRelu(float(shape, c), alpha));
      await agree(() => tf.step(float(shape, c + 50), alpha));
    }
    await agree(() =>
      tf.step(
        tf.tensor(
          new Int32Array(NATIVE_FROM).map((_, i) => i - 99),
          undefined,
          'int32',
        ),
        0.5,
      ),
    );
  });

  it('the addon: each element is the float32 rounding of the float64 result, in parallel too', () => {
    const a = loadAddon()!;
    for (const n of [NATIVE_FROM, 1 << 17]) {
      const x = valuesOf(n, 11);
      const y = valuesOf(n, 12);
      const tail = valuesOf(64, 13);
      for (const [op, f] of Object.entries(REFERENCE)) {
        const name = op as keyof typeof REFERENCE;
        const out = new Float32Array(n);
        const code = BINARY_OPS.indexOf(name);
        a.binary({ op: code, a: x, b: y, out });
        expect(
          sameBits(
            out,
            x.map((v, i) => f(v, y[i])),
          ),
        ).toBe(true);
        a.binary({ op: code, a: tail, b: y, out });
        expect(
          sameBits(
            out,
            y.map((v, i) => f(tail[i % 64], v)),
          ),
        ).toBe(true);
        a.binary({ op: code, a: x, b: tail.subarray(0, 1), out });
        expect(
          sameBits(
            out,
            x.map((v) => f(v, tail[0])),
          ),
        ).toBe(true);
      }
      const out = new Float32Array(n);
      a.unary({ op: UNARY_OPS.indexOf('leakyRelu'), x, out, alpha: 0.2 });
      expect(
        sameBits(
          out,
          x.map((v) => (v < 0 ? 0.2 * v : v)),
        ),
      ).toBe(true);
      a.unary({ op: UNARY_OPS.indexOf('step'), x, out, alpha: 0.2 });
      expect(
        sameBits(
          out,
          x.map((v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0.2)),
        ),
      ).toBe(true);
    }
  });

  it('the addon refuses bad arguments with one line naming the argument', () => {
    const a = loadAddon()!;
    const f = (n: number) => new Float32Array(n);
    expect(thrown(() => a.binary({ op: 4, a: f(4), b: f(4), out: f(4) }))).toMatch(
      /binary: op must be an integer in \[0, 3\]/,
    );
    expect(thrown(() => a.binary({ op: 0, a: f(3), b: f(4), out: f(4) }))).toMatch(
      /binary: a \(3 elements\) and b \(4\) must each have out's 4/,
    );
    expect(thrown(() => a.binary({ op: 0, a: f(2), b: f(2), out: f(4) }))).toMatch(
      /one of them out's/,
    );
    const bad = { op: 0, a: new Float64Array(4), b: f(4), out: f(4) };
    expect(thrown(() => a.binary(bad as unknown as Parameters<typeof a.binary>[0]))).toMatch(
      /binary: a must be a Float32Array/,
    );
    expect(thrown(() => a.unary({ op: 1, x: f(4), out: f(5), alpha: 0 }))).toMatch(
      /unary: out must have 4 elements but has 5/,
    );
    expect(thrown(() => a.unary({ op: 1, x: f(4), out: f(4), alpha: NaN }))).toMatch(
      /unary: alpha must be a finite number but is NaN/,
    );
  });
});
