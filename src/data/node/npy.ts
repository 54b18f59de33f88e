import { readFileSync } from 'node:fs';
import { parse, dump, type NpyArray } from 'npyjs';
import { VbnError, shapeString } from '../../errors.js';
import { checkFinite, type Dataset } from '../dataset.js';
import { resizeImages } from '../resize.js';

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
  checkShape(file, arr);
  if (arr.fortranOrder) {
    throw new VbnError(
      `${file}: Fortran-ordered arrays are not supported (save with np.ascontiguousarray)`,
    );
  }
  return arr;
}

/**
 * The header's shape must be non-negative integers whose product is exactly the number of values
 * the file holds: an absurd or truncated shape is refused here, before anything is allocated for it.
 */
function checkShape(file: string, arr: NpyArray): void {
  const held = (arr.data as unknown as ArrayLike<unknown>).length;
  if (!arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new VbnError(
      `${file}: the header's shape ${shapeString(arr.shape)} is not a list of non-negative integers`,
    );
  }
  const n = arr.shape.reduce((a, b) => a * b, 1);
  if (n !== held) {
    throw new VbnError(
      `${file}: the header says shape ${shapeString(arr.shape)} (${n} values) but the file holds ${held} values (truncated or damaged)`,
    );
  }
}

/** Images as float32 `[N, H, W, C]`: float32 as is, uint8 scaled to [0, 1]; finite values only. */
export interface NpyImages {
  values: Float32Array;
  shape: [number, number, number, number];
}

/**
 * Reads `[N, H, W]` or `[N, H, W, C]` images from a .npy file (the one decoder for images in
 * .npy: training data, a given reference, prediction inputs). `what` names them in messages.
 */
export function readNpyImages(file: string, what = 'images'): NpyImages {
  const x = readNpy(file);
  if (x.dtype !== 'f4' && x.dtype !== 'u1') {
    throw new VbnError(`${file}: ${what} must be float32 or uint8 but the dtype is ${x.dtype}`);
  }
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw new VbnError(
      `${file}: ${what} must have shape [N,H,W] or [N,H,W,C] but have shape ${shapeString(x.shape)}`,
    );
  }
  const [n, h, w] = x.shape;
  const shape: NpyImages['shape'] = [n, h, w, x.shape.length === 4 ? x.shape[3] : 1];
  const values =
    x.dtype === 'u1'
      ? Float32Array.from(x.data as Uint8Array, (v) => v / 255)
      : Float32Array.from(x.data as Float32Array);
  checkFinite(values, h * w * shape[3], file);
  return { values, shape };
}

/** Integer class labels `[N]` from a .npy file; each must be >= 0. */
function readNpyLabels(file: string, count: number, imagesFile: string): Int32Array {
  const y = readNpy(file);
  if (!INT_DTYPES.has(y.dtype)) {
    throw new VbnError(`${file}: labels must be integers but the dtype is ${y.dtype}`);
  }
  if (y.shape.length !== 1 || y.shape[0] !== count) {
    throw new VbnError(
      `${file}: labels must have shape [${count}] (one per image in ${imagesFile}) but have shape ${shapeString(y.shape)}`,
    );
  }
  const labels = Int32Array.from(y.data as unknown as ArrayLike<number | bigint>, (v) => Number(v));
  const bad = labels.findIndex((v) => v < 0);
  if (bad >= 0) {
    throw new VbnError(
      `${file}: label ${labels[bad]} of example ${bad} is out of range (labels must be 0..K-1)`,
    );
  }
  return labels;
}

const INT_DTYPES = new Set(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8']);

/** Images from x.npy (float32 as is, uint8 scaled to [0, 1]) and labels from y.npy. */
export function loadNpyPair(xFile: string, yFile: string, imageSize?: number): Dataset {
  const x = readNpyImages(xFile);
  const [n, h, w, c] = x.shape;
  const labels = readNpyLabels(yFile, n, xFile);
  const images =
    imageSize === undefined ? x.values : resizeImages(x.values, n, [h, w, c], imageSize);
  const shape: [number, number, number] =
    imageSize === undefined ? [h, w, c] : [imageSize, imageSize, c];
  // A loop, not Math.max(...labels): spreading 10^5+ arguments overflows the stack.
  const k = labels.reduce((m, v) => Math.max(m, v), -1) + 1;
  return { images, labels, shape, classNames: Array.from({ length: k }, (_, i) => String(i)) };
}

/** Writes a float32 array as .npy bytes. */
export function npyBytes(values: Float32Array, shape: number[]): Buffer {
  return Buffer.from(dump(values, shape));
}
