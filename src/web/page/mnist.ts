import { VbnError } from '../../errors.js';
import type { Dataset } from '../../data/dataset.js';

/** MNIST IDX files as the page fetches them from `vbn web` (/data/...). */
export type MnistSplit = 'train' | 't10k';

export interface MnistBytes {
  images: Uint8Array;
  labels: Uint8Array;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/**
 * The images of `classes` (relabelled 0..K-1 in the given order, scaled to [0, 1], [28, 28, 1]),
 * the first `limit` of them in file order. Throws a VbnError naming `source` on a bad file.
 */
export function parseMnist(
  bytes: MnistBytes,
  classes: readonly number[],
  limit: number,
  source: string,
): Dataset {
  const img = view(bytes.images);
  const lbl = view(bytes.labels);
  if (bytes.images.length < 16 || img.getUint32(0) !== 2051 || lbl.getUint32(0) !== 2049) {
    throw new VbnError(`${source}: not an MNIST IDX file`);
  }
  const n = img.getUint32(4);
  const [h, w] = [img.getUint32(8), img.getUint32(12)];
  const index = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < n && keep.length < limit; i++) {
    if (index.has(bytes.labels[8 + i])) keep.push(i);
  }
  const p = h * w;
  const images = new Float32Array(keep.length * p);
  const labels = new Int32Array(keep.length);
  keep.forEach((k, j) => {
    for (let q = 0; q < p; q++) images[j * p + q] = bytes.images[16 + k * p + q] / 255;
    labels[j] = index.get(bytes.labels[8 + k])!;
  });
  return { images, labels, shape: [h, w, 1], classNames: classes.map(String) };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new VbnError(`${url}: the server answered ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches one split's two files (once; later calls reuse them). */
export function mnistLoader(): (split: MnistSplit) => Promise<MnistBytes> {
  const cache = new Map<MnistSplit, Promise<MnistBytes>>();
  return (split) => {
    let p = cache.get(split);
    if (!p) {
      p = Promise.all([
        fetchBytes(`data/${split}-images-idx3-ubyte`),
        fetchBytes(`data/${split}-labels-idx1-ubyte`),
      ]).then(([images, labels]) => ({ images, labels }));
      p.catch(() => cache.delete(split));
      cache.set(split, p);
    }
    return p;
  };
}
