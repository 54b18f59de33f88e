import { readFileSync } from 'node:fs';
import { parse, dump, type NpyArray } from 'npyjs';
import { VbnError, shapeString } from '../errors.js';
import type { Dataset } from './dataset.js';
import { resizeImages } from './resize.js';

/** Reads and parses a .npy file, or says in one line why it cannot. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    throw new VbnError(`${file}: no such file`);
  }
  let arr: NpyArray;
  try {
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    arr = parse(ab);
  } catch (e) {
    throw new VbnError(`${file}: not a readable .npy file (${(e as Error).message})`);
  }
  const n = arr.shape.reduce((a, b) => a * b, 1);
  if ((arr.data as unknown as ArrayLike<unknown>).length !== n) {
    throw new VbnError(`${file}: truncated .npy data (header says ${shapeString(arr.shape)})`);
  }
  if (arr.fortranOrder) {
    throw new VbnError(
      `${file}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)`,
    );
  }
  return arr;
}

const INT_DTYPES = new Set(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8']);

/** Images from x.npy (float32 as is, uint8 scaled to [0, 1]) and labels from y.npy. */
export function loadNpyPair(xFile: string, yFile: string, imageSize?: number): Dataset {
  const x = readNpy(xFile);
  const y = readNpy(yFile);
  if (x.dtype !== 'f4' && x.dtype !== 'u1') {
    throw new VbnError(`${xFile}: images must be float32 or uint8 but the dtype is ${x.dtype}`);
  }
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw new VbnError(
      `${xFile}: images must have shape [N,H,W] or [N,H,W,C] but have shape ${shapeString(x.shape)}`,
    );
  }
  if (!INT_DTYPES.has(y.dtype)) {
    throw new VbnError(`${yFile}: labels must be integers but the dtype is ${y.dtype}`);
  }
  if (y.shape.length !== 1 || y.shape[0] !== x.shape[0]) {
    throw new VbnError(
      `${yFile}: labels must have shape [${x.shape[0]}] (one per image in ${xFile}) but have shape ${shapeString(y.shape)}`,
    );
  }
  const [n, h, w] = x.shape;
  const c = x.shape.length === 4 ? x.shape[3] : 1;
  let images: Float32Array =
    x.dtype === 'u1'
      ? Float32Array.from(x.data as Uint8Array, (v) => v / 255)
      : Float32Array.from(x.data as Float32Array);
  let shape: [number, number, number] = [h, w, c];
  const labels = Int32Array.from(y.data as unknown as ArrayLike<number | bigint>, (v) => Number(v));
  const bad = labels.findIndex((v) => v < 0);
  if (bad >= 0) {
    throw new VbnError(
      `${yFile}: label ${labels[bad]} of example ${bad} is out of range (labels must be 0..K-1)`,
    );
  }
  for (let i = 0; i < images.length; i++) {
    if (!Number.isFinite(images[i])) {
      throw new VbnError(
        `${xFile}: image ${Math.floor(i / (h * w * c))} has a non-finite value (${images[i]}); expected finite numbers`,
      );
    }
  }
  if (imageSize !== undefined) {
    images = resizeImages(images, n, shape, imageSize);
    shape = [imageSize, imageSize, c];
  }
  const k = Math.max(...labels) + 1;
  return { images, labels, shape, classNames: Array.from({ length: k }, (_, i) => String(i)) };
}

/** Writes a float32 array as .npy bytes. */
export function npyBytes(values: Float32Array, shape: number[]): Buffer {
  return Buffer.from(dump(values, shape));
}
