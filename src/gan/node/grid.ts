import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { PNG } from 'pngjs';

/**
 * A grid PNG of `count` grayscale images `[count, h, w, 1]` in [0, 1], `cols` per row, 2-pixel
 * gaps; written to a temporary file, then renamed (never half-written).
 */
export function writeGrid(
  file: string,
  images: Float32Array,
  count: number,
  h: number,
  w: number,
  cols = 10,
): void {
  const gap = 2;
  const rows = Math.ceil(count / cols);
  const png = new PNG({ width: cols * (w + gap) + gap, height: rows * (h + gap) + gap });
  png.data.fill(255);
  for (let k = 0; k < count; k++) {
    const [r, c] = [Math.floor(k / cols), k % cols];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, images[(k * h + i) * w + j])));
        const o = ((gap + r * (h + gap) + i) * png.width + gap + c * (w + gap) + j) * 4;
        png.data[o] = png.data[o + 1] = png.data[o + 2] = 255 - v;
        png.data[o + 3] = 255;
      }
    }
  }
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, PNG.sync.write(png, { colorType: 0 })); // grayscale
  renameSync(tmp, file);
}
