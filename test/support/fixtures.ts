import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'npyjs';
import { PNG } from 'pngjs';

export function tempDir(prefix = 'vbn-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A PNG file: grey (one value per pixel) or RGB (three). */
export function writePng(
  file: string,
  width: number,
  height: number,
  pixel: (i: number, c: number) => number,
  rgb = false,
): void {
  const png = new PNG({ width, height, colorType: rgb ? 2 : 0, inputColorType: 6 } as never);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = pixel(i, rgb ? c : 0);
    png.data[i * 4 + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(png, { colorType: rgb ? 2 : 0, inputColorType: 6 } as never));
}

/**
 * A folder of class folders with a learnable pattern: class k has a bright square in corner k.
 * Returns the folder.
 */
export function imageFolder(
  dir: string,
  opts: { classes?: number; perClass?: number; size?: number; rgb?: boolean } = {},
): string {
  const { classes = 2, perClass = 12, size = 8, rgb = false } = opts;
  for (let k = 0; k < classes; k++) {
    const sub = join(dir, `class_${k}`);
    mkdirSync(sub, { recursive: true });
    for (let n = 0; n < perClass; n++) {
      writePng(
        join(sub, `img_${n}.png`),
        size,
        size,
        (i) => {
          const [y, x] = [Math.floor(i / size), i % size];
          const half = size / 2;
          const inCorner = (k % 2 === 0 ? x < half : x >= half) && (k < 2 ? y < half : y >= half);
          return (inCorner ? 200 : 30) + ((n * 7 + i * 13) % 25);
        },
        rgb,
      );
    }
  }
  return dir;
}

export function writeNpy(
  file: string,
  values: ArrayLike<number> | BigInt64Array,
  shape: number[],
  dtype: string,
): void {
  writeFileSync(file, Buffer.from(dump(values as never, shape, { dtype: dtype as never })));
}
