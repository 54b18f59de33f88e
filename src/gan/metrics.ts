import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { VbnError } from '../errors.js';

/**
 * GAN metrics (as TF-GAN's mnist_score and mnist_frechet_distance), in float64 on plain arrays.
 * `probabilities` and `features` are row-major `[N, K]` and `[N, D]`.
 */

function checkRows(fn: string, what: string, values: ArrayLike<number>, width: number): number {
  const n = values.length / width;
  if (!Number.isInteger(n) || n < 1) {
    throw new VbnError(
      `${fn}: ${what} must hold N >= 1 rows of ${width} values but has ${values.length} values`,
    );
  }
  return n;
}

/**
 * Classifier score exp(E_x KL(p(y|x) || p(y))), with p(y) the mean prediction over all N rows.
 * 10 for ten equally frequent one-hot predictions, 1 when every row predicts the same class.
 */
export function classifierScore(probabilities: ArrayLike<number>, classes = 10): number {
  const n = checkRows('classifierScore', 'probabilities', probabilities, classes);
  const marginal = new Float64Array(classes);
  for (let i = 0; i < n * classes; i++) marginal[i % classes] += probabilities[i] / n;
  let kl = 0;
  for (let i = 0; i < n * classes; i++) {
    const p = probabilities[i];
    if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[i % classes]));
  }
  return Math.exp(kl / n);
}

/** Share of the rows whose most probable class is c, for each class c. */
export function classHistogram(probabilities: ArrayLike<number>, classes = 10): number[] {
  const n = checkRows('classHistogram', 'probabilities', probabilities, classes);
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c;
    }
    counts[best]++;
  }
  return counts.map((c) => c / n);
}

/** Classes holding at least `minShare` (default 5%) of the rows. */
export function classesCovered(histogram: readonly number[], minShare = 0.05): number {
  return histogram.filter((h) => h >= minShare).length;
}

export interface Gaussian {
  /** `[D]`. */
  mean: Float64Array;
  /** `[D, D]`, unbiased (divided by N - 1). */
  covariance: Matrix;
}

/** Mean and unbiased covariance of the rows of `features` `[N, D]`, N >= 2. */
export function fitGaussian(features: ArrayLike<number>, dim: number): Gaussian {
  const n = checkRows('fitGaussian', 'features', features, dim);
  if (n < 2) throw new VbnError(`fitGaussian: needs at least 2 rows but got ${n}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n * dim; i++) mean[i % dim] += features[i] / n;
  const centered = new Matrix(n, dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) centered.set(i, j, features[i * dim + j] - mean[j]);
  }
  const covariance = centered
    .transpose()
    .mmul(centered)
    .div(n - 1);
  return { mean, covariance };
}

/** Eigenvalues and vectors of a symmetric matrix (ml-matrix). */
function symmetricEigen(m: Matrix): { values: number[]; vectors: Matrix } {
  const sym = m.add(m.transpose()).div(2); // exact symmetry for the symmetric solver
  const e = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  return { values: e.realEigenvalues, vectors: e.eigenvectorMatrix };
}

/** Principal square root of a symmetric positive semi-definite matrix (negative rounding clipped). */
function sqrtPsd(m: Matrix): Matrix {
  const { values, vectors } = symmetricEigen(m);
  const roots = Matrix.diag(values.map((v) => Math.sqrt(Math.max(v, 0))));
  return vectors.mmul(roots).mmul(vectors.transpose());
}

/**
 * Fréchet distance between N(mu1, S1) and N(mu2, S2):
 *   |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)),
 * with tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)) (a symmetric PSD matrix).
 */
export function frechetDistance(a: Gaussian, b: Gaussian): number {
  const d = a.mean.length;
  if (b.mean.length !== d || a.covariance.rows !== d || b.covariance.rows !== d) {
    throw new VbnError(
      `frechetDistance: the Gaussians must have the same dimension but have ${d} and ${b.mean.length}`,
    );
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i] - b.mean[i]) ** 2;
  const root = sqrtPsd(a.covariance);
  const inner = root.mmul(b.covariance).mmul(root);
  const traceSqrt = symmetricEigen(inner).values.reduce((s, v) => s + Math.sqrt(Math.max(v, 0)), 0);
  return meanTerm + a.covariance.trace() + b.covariance.trace() - 2 * traceSqrt;
}
