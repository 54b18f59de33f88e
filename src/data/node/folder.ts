import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { VbnError } from '../../errors.js';
import type { Dataset } from '../dataset.js';
import { resizeImages } from '../resize.js';

interface Decoded {
  file: string;
  width: number;
  height: number;
  grey: boolean;
  rgba: Uint8Array;
}

/** Decodes one PNG file, or says in one line why it cannot. */
export function readPng(file: string): Decoded {
  let png: ReturnType<typeof PNG.sync.read>;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new VbnError(`${file}: no such file (expected a PNG image)`);
  }
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new VbnError(`${file}: not a readable PNG image (${(e as Error).message})`);
  }
  // colorType 0 = grey, 4 = grey + alpha.
  const grey =
    (png as unknown as { colorType?: number }).colorType === 0 ||
    (png as unknown as { colorType?: number }).colorType === 4;
  return { file, width: png.width, height: png.height, grey, rgba: png.data };
}

/** Pixels of decoded PNGs as [n, H, W, C] floats in [0, 1]; C = 1 if every image is grey, else 3. */
export function pngsToImages(
  decoded: Decoded[],
  imageSize: number | undefined,
  what: string,
): { images: Float32Array; shape: [number, number, number] } {
  const channels = decoded.every((d) => d.grey) ? 1 : 3;
  if (imageSize === undefined) {
    const first = decoded[0];
    const other = decoded.find((d) => d.width !== first.width || d.height !== first.height);
    if (other) {
      throw new VbnError(
        `${what}: images of mixed sizes (${first.file} is ${first.width}x${first.height}, ${other.file} is ${other.width}x${other.height}); pass --image-size N to resize them`,
      );
    }
  }
  const size = imageSize;
  const out: Float32Array[] = decoded.map((d) => {
    const px = new Float32Array(d.width * d.height * channels);
    for (let i = 0; i < d.width * d.height; i++) {
      for (let c = 0; c < channels; c++) px[i * channels + c] = d.rgba[i * 4 + c] / 255;
    }
    return size === undefined ? px : resizeImages(px, 1, [d.height, d.width, channels], size);
  });
  const [h, w] = size === undefined ? [decoded[0].height, decoded[0].width] : [size, size];
  const images = new Float32Array(out.length * h * w * channels);
  out.forEach((px, i) => images.set(px, i * h * w * channels));
  return { images, shape: [h, w, channels] };
}

/** A folder with one sub-folder of PNG images per class (sorted by name). */
export function loadImageFolder(dir: string, imageSize?: number): Dataset {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new VbnError(
      `--data ${dir}: no such file or directory (expected 'mnist', a folder of class folders, or x.npy,y.npy)`,
    );
  }
  if (!st.isDirectory()) {
    throw new VbnError(
      `--data ${dir}: not a folder (expected one sub-folder of PNG images per class)`,
    );
  }
  const classes = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length < 2) {
    throw new VbnError(
      `--data ${dir}: found ${classes.length} class folder(s); expected at least two sub-folders of PNG images, one per class`,
    );
  }
  const decoded: Decoded[] = [];
  const labels: number[] = [];
  classes.forEach((name, k) => {
    const folder = join(dir, name);
    const files = readdirSync(folder)
      .filter((f) => f.toLowerCase().endsWith('.png'))
      .sort();
    if (files.length === 0) {
      throw new VbnError(`${folder}: class folder has no .png images`);
    }
    for (const f of files) {
      decoded.push(readPng(join(folder, f)));
      labels.push(k);
    }
  });
  const { images, shape } = pngsToImages(decoded, imageSize, `--data ${dir}`);
  return { images, labels: Int32Array.from(labels), shape, classNames: classes };
}
