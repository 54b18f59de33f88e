import { VbnError } from '../errors.js';
import { Random } from '../util/random.js';

/** Images in memory, channels last, values as given (MNIST and PNGs are scaled to [0, 1]). */
export interface Dataset {
  /** [count, H, W, C] flattened. */
  images: Float32Array;
  /** Class index per image, in [0, classNames.length). */
  labels: Int32Array;
  /** [H, W, C] of one image. */
  shape: [number, number, number];
  /** Name of each class (its folder, its digit, or its label value). */
  classNames: string[];
}

export const countOf = (d: Dataset): number => d.labels.length;
export const pixelsOf = (d: Dataset): number => d.shape[0] * d.shape[1] * d.shape[2];

/** The images at `indices`, as one [n, H, W, C] buffer. */
export function gather(d: Dataset, indices: readonly number[]): Float32Array {
  const p = pixelsOf(d);
  const out = new Float32Array(indices.length * p);
  indices.forEach((k, i) => out.set(d.images.subarray(k * p, (k + 1) * p), i * p));
  return out;
}

export function subset(d: Dataset, indices: readonly number[]): Dataset {
  return {
    images: gather(d, indices),
    labels: Int32Array.from(indices, (k) => d.labels[k]),
    shape: d.shape,
    classNames: d.classNames,
  };
}

/** Splits off a seeded, stratification-free validation part of size round(fraction * count). */
export function splitValidation(
  d: Dataset,
  fraction: number,
  seed: number,
): { train: Dataset; val: Dataset } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new VbnError(`--val-fraction must be in (0, 1) but is ${fraction}`);
  }
  const order = new Random(seed ^ 0x5eed).shuffle(Array.from({ length: countOf(d) }, (_, i) => i));
  const nVal = Math.round(fraction * order.length);
  if (nVal < 1 || nVal >= order.length) {
    throw new VbnError(
      `--val-fraction ${fraction} leaves an empty training or validation set (${order.length} examples)`,
    );
  }
  return { val: subset(d, order.slice(0, nVal)), train: subset(d, order.slice(nVal)) };
}

/** Seeded reference indices, class-balanced (round-robin over classes) unless `balanced` is false. */
export function drawReference(d: Dataset, size: number, seed: number, balanced = true): number[] {
  const n = countOf(d);
  if (!Number.isInteger(size) || size < 1) {
    throw new VbnError(`--reference-size must be a positive integer but is ${size}`);
  }
  if (size > n) {
    throw new VbnError(`--reference-size ${size} is larger than the training set (${n} examples)`);
  }
  const rng = new Random(seed ^ 0x7ef);
  if (!balanced) return rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, size);
  const byClass = d.classNames.map(() => [] as number[]);
  d.labels.forEach((c, i) => byClass[c].push(i));
  byClass.forEach((ids) => rng.shuffle(ids));
  const out: number[] = [];
  for (let round = 0; out.length < size; round++) {
    for (const ids of byClass) if (round < ids.length && out.length < size) out.push(ids[round]);
  }
  return out;
}

/** Rejects NaN/Inf values; `perImage` values make one image. `source` names the file. */
export function checkFinite(values: Float32Array, perImage: number, source: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new VbnError(
        `${source}: image ${Math.floor(i / perImage)} has a non-finite value (${values[i]}); expected finite numbers`,
      );
    }
  }
}

/**
 * Rejects an empty data set and labels outside the classes. Pixels are checked where they are
 * decoded (checkFinite in the .npy reader; PNGs and MNIST bytes are finite by construction).
 */
export function validateDataset(d: Dataset, source: string): Dataset {
  const k = d.classNames.length;
  if (d.labels.length === 0) throw new VbnError(`${source}: no examples`);
  for (let i = 0; i < d.labels.length; i++) {
    if (d.labels[i] < 0 || d.labels[i] >= k) {
      throw new VbnError(
        `${source}: label ${d.labels[i]} of example ${i} is out of range [0, ${k - 1}]`,
      );
    }
  }
  return d;
}
