/** A series of (x, y) points drawn as a line (or as dots when `dots`). */
export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dots?: boolean;
}

const PAD = { left: 44, right: 10, top: 18, bottom: 22 };

function extent(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return fallback;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** Draws `series` on `canvas` with axes from the data (y from `yRange` when given). */
export function drawChart(
  canvas: HTMLCanvasElement,
  title: string,
  series: Series[],
  yRange?: [number, number],
): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.points);
  const [x0, x1] = extent(
    all.map((p) => p[0]),
    [0, 1],
  );
  const [y0, y1] =
    yRange ??
    extent(
      all.map((p) => p[1]),
      [0, 1],
    );
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (w - PAD.left - PAD.right);
  const py = (y: number) => h - PAD.bottom - ((y - y0) / (y1 - y0)) * (h - PAD.top - PAD.bottom);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(PAD.left, PAD.top, w - PAD.left - PAD.right, h - PAD.top - PAD.bottom);
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.fillText(title, PAD.left, 12);
  ctx.fillText(y1.toPrecision(3), 2, PAD.top + 8);
  ctx.fillText(y0.toPrecision(3), 2, h - PAD.bottom);
  ctx.fillText(`step ${Math.round(x1)}`, w - PAD.right - 60, h - 6);
  let legendX = PAD.left + ctx.measureText(title).width + 16;
  for (const s of series) {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => {
      if (s.dots) {
        ctx.fillRect(px(x) - 2.5, py(y) - 2.5, 5, 5);
      } else if (i === 0) {
        ctx.moveTo(px(x), py(y));
      } else {
        ctx.lineTo(px(x), py(y));
      }
    });
    ctx.stroke();
    ctx.fillText(s.label, legendX, 12);
    legendX += ctx.measureText(s.label).width + 14;
  }
}

/** Exponential moving average of y (bias-corrected), for the smoothed curves. */
export function smooth(points: [number, number][], beta = 0.9): [number, number][] {
  let m = 0;
  return points.map(([x, y], i) => {
    m = beta * m + (1 - beta) * y;
    return [x, m / (1 - beta ** (i + 1))];
  });
}
