import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  classHistogram,
  classesCovered,
  classifierScore,
  fitGaussian,
  frechetDistance,
  type Gaussian,
} from 'vbn';
import { errorMessage, randn } from '../support/helpers.js';

const oneHot = (classes: number[], k = 10) =>
  classes.flatMap((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)));

/** A random symmetric positive definite matrix A A^T / d + 0.1 I. */
function randomSpd(d: number, seed: number): Matrix {
  const a = new Matrix(Array.from({ length: d }, (_, i) => Array.from(randn(d, seed * 31 + i))));
  return a.mmul(a.transpose()).div(d).add(Matrix.eye(d).mul(0.1));
}

const gaussian = (mean: number[], covariance: Matrix): Gaussian => ({
  mean: Float64Array.from(mean),
  covariance,
});

/** Plain float64 arrays, Gauss-Jordan inverse: an oracle independent of ml-matrix's solvers. */
type M = number[][];
const mul = (a: M, b: M): M =>
  a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
function inverse(a: M): M {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...r.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const pivot = m[c][c];
    m[c] = m[c].map((v) => v / pivot);
    for (let r = 0; r < n; r++) {
      if (r !== c) m[r] = m[r].map((v, j) => v - m[r][c] * m[c][j]);
    }
  }
  return m.map((r) => r.slice(n));
}
/** Denman-Beavers iteration: Y -> A^(1/2) for a matrix with positive real eigenvalues. */
function sqrtm(a: M): M {
  let y = a;
  let z: M = a.map((r, i) => r.map((_, j) => (i === j ? 1 : 0)));
  for (let k = 0; k < 60; k++) {
    const [yi, zi] = [inverse(y), inverse(z)];
    [y, z] = [
      y.map((r, i) => r.map((v, j) => (v + zi[i][j]) / 2)),
      z.map((r, i) => r.map((v, j) => (v + yi[i][j]) / 2)),
    ];
  }
  return y;
}
function frechet64(m1: number[], s1: M, m2: number[], s2: M): number {
  const root = sqrtm(mul(s1, s2));
  const tr = (a: M) => a.reduce((s, r, i) => s + r[i], 0);
  const meanTerm = m1.reduce((s, v, i) => s + (v - m2[i]) ** 2, 0);
  return meanTerm + tr(s1) + tr(s2) - 2 * tr(root);
}

describe('classifier score', () => {
  it('is 10 for ten equally frequent one-hot predictions', () => {
    const rows = Array.from({ length: 50 }, (_, i) => i % 10);
    expect(classifierScore(oneHot(rows))).toBeCloseTo(10, 12);
  });
  it('is 1 when every prediction is the same class, confident or not', () => {
    expect(classifierScore(oneHot([3, 3, 3, 3]))).toBeCloseTo(1, 12);
    const soft = Array.from({ length: 5 }, () => [0.1, 0.2, 0.7]).flat();
    expect(classifierScore(soft, 3)).toBeCloseTo(1, 12);
  });
  it('is k for k equally frequent one-hot classes, and uses p(y) over all rows', () => {
    expect(classifierScore(oneHot([0, 1, 2, 0, 1, 2]))).toBeCloseTo(3, 12);
    // Unequal frequencies 3:1 -> exp(entropy) = exp(-(3/4 ln 3/4 + 1/4 ln 1/4)).
    const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    expect(classifierScore(oneHot([0, 0, 0, 1]))).toBeCloseTo(Math.exp(h), 12);
  });
  it('histogram and coverage', () => {
    const hist = classHistogram(oneHot([0, 0, 1, 2, 2, 2, 9, 9, 9, 9]));
    expect(hist).toEqual([0.2, 0.1, 0.3, 0, 0, 0, 0, 0, 0, 0.4]);
    expect(classesCovered(hist)).toBe(4);
    expect(classesCovered([0.04, 0.96])).toBe(1);
  });
  it('rejects a length that is not N rows of K', () => {
    expect(errorMessage(() => classifierScore([0.5, 0.5, 1], 2))).toBe(
      'classifierScore: probabilities must hold N >= 1 rows of 2 values but has 3 values',
    );
  });
});

describe('Fréchet distance', () => {
  it('of N(mu1, S) and N(mu2, S) is |mu1 - mu2|^2', () => {
    const s = randomSpd(6, 1);
    const m1 = Array.from(randn(6, 2));
    const m2 = Array.from(randn(6, 3));
    const expected = m1.reduce((a, v, i) => a + (v - m2[i]) ** 2, 0);
    expect(frechetDistance(gaussian(m1, s), gaussian(m2, s))).toBeCloseTo(expected, 9);
  });
  it('of diagonal covariances is |mu1 - mu2|^2 + sum (sqrt a_i - sqrt b_i)^2', () => {
    const a = [1, 4, 9, 0.25];
    const b = [4, 1, 1, 2.25];
    const expected = 1 + a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
    const d = frechetDistance(
      gaussian([1, 0, 0, 0], Matrix.diag(a)),
      gaussian([0, 0, 0, 0], Matrix.diag(b)),
    );
    expect(d).toBeCloseTo(expected, 10);
  });
  it('matches a float64 Denman-Beavers computation on random covariances', () => {
    for (const seed of [4, 5, 6]) {
      const [s1, s2] = [randomSpd(8, seed), randomSpd(8, seed + 100)];
      const [m1, m2] = [Array.from(randn(8, seed + 7)), Array.from(randn(8, seed + 8))];
      const expected = frechet64(m1, s1.to2DArray(), m2, s2.to2DArray());
      const got = frechetDistance(gaussian(m1, s1), gaussian(m2, s2));
      expect(Math.abs(got - expected) / expected).toBeLessThan(1e-9);
      // Symmetric in its arguments.
      expect(frechetDistance(gaussian(m2, s2), gaussian(m1, s1))).toBeCloseTo(got, 9);
    }
  });
  it('is 0 for identical Gaussians and grows with the distance', () => {
    const s = randomSpd(5, 9);
    expect(
      Math.abs(frechetDistance(gaussian([0, 0, 0, 0, 0], s), gaussian([0, 0, 0, 0, 0], s))),
    ).toBeLessThan(1e-9);
  });
  it('fitGaussian gives the mean and the unbiased covariance', () => {
    const x = [1, 2, 3, 6, 5, 10];
    const g = fitGaussian(x, 2); // rows (1,2), (3,6), (5,10)
    expect(Array.from(g.mean)).toEqual([3, 6]);
    expect(g.covariance.to2DArray()).toEqual([
      [4, 8],
      [8, 16],
    ]);
    expect(errorMessage(() => fitGaussian([1, 2], 2))).toBe(
      'fitGaussian: needs at least 2 rows but got 1',
    );
  });
});
