import { pixelsOf, type Dataset } from '../../data/dataset.js';

/** Paints images `indices` of `data` (grey, [H, W, 1]) into a grid on `canvas`, `scale` px each. */
export function drawDigits(
  canvas: HTMLCanvasElement,
  data: Dataset,
  indices: readonly number[],
  columns: number,
  scale = 2,
): void {
  const [h, w] = data.shape;
  const rows = Math.ceil(indices.length / columns);
  canvas.width = columns * (w * scale + 2);
  canvas.height = rows * (h * scale + 2);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(w * scale, h * scale);
  const p = pixelsOf(data);
  indices.forEach((k, n) => {
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const v =
          255 -
          Math.round(255 * data.images[k * p + Math.floor(y / scale) * w + Math.floor(x / scale)]);
        const o = 4 * (y * w * scale + x);
        img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(
      img,
      (n % columns) * (w * scale + 2),
      Math.floor(n / columns) * (h * scale + 2),
    );
  });
}
