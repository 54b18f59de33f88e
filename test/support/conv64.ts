/**
 * The float64 3x3 convolution the native engine's tests compare with (test/backend/native-winograd,
 * test/backend/isa): forward, backward-data and backward-weights, written out loop by loop.
 */

/** x [B, H, W, Ci], pads [top, bottom, left, right], filter [3, 3, Ci, Co]. */
export interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  pads: [number, number, number, number];
}
export const outSize = (c: Case): [number, number] => [
  c.h + c.pads[0] + c.pads[1] - 2,
  c.w + c.pads[2] + c.pads[3] - 2,
];

/**
 * Calls `tap` for every filter tap that lands inside x (the padding's taps skipped), with the
 * offsets of its input pixel in x [B, H, W, Ci], its output pixel in y [B, Ho, Wo, Co] and its
 * filter position in w [3, 3, Ci, Co]; each pass then loops over the channels.
 */
function forEachTap(c: Case, tap: (xAt: number, yAt: number, wAt: number) => void): void {
  const [ho, wo] = outSize(c);
  for (let n = 0; n < c.b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const iy = oy - c.pads[0] + kh;
            const ix = ox - c.pads[2] + kw;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
            tap(
              ((n * c.h + iy) * c.w + ix) * c.ci,
              ((n * ho + oy) * wo + ox) * c.co,
              (kh * 3 + kw) * c.ci * c.co,
            );
          }
}

/**
 * y [B, Ho, Wo, Co] = x * w in float64, and for every output the sum over its taps of |x||w|
 * (the scale that a float32 rounding error is measured against).
 */
export function conv64(
  c: Case,
  x: Float32Array,
  w: Float32Array,
): { y: Float64Array; scale: Float64Array } {
  const [ho, wo] = outSize(c);
  const y = new Float64Array(c.b * ho * wo * c.co);
  const scale = new Float64Array(y.length);
  forEachTap(c, (xAt, yAt, wAt) => {
    for (let i = 0; i < c.ci; i++)
      for (let o = 0; o < c.co; o++) {
        const p = x[xAt + i] * w[wAt + i * c.co + o];
        y[yAt + o] += p;
        scale[yAt + o] += Math.abs(p);
      }
  });
  return { y, scale };
}

/** dx [B, H, W, Ci] of sum(conv(x, w) * dy) in float64, and its per-element scale. */
export function conv64BackData(c: Case, dy: Float32Array, w: Float32Array) {
  const dx = new Float64Array(c.b * c.h * c.w * c.ci);
  const scale = new Float64Array(dx.length);
  forEachTap(c, (xAt, yAt, wAt) => {
    for (let o = 0; o < c.co; o++)
      for (let i = 0; i < c.ci; i++) {
        const p = dy[yAt + o] * w[wAt + i * c.co + o];
        dx[xAt + i] += p;
        scale[xAt + i] += Math.abs(p);
      }
  });
  return { y: dx, scale };
}

/** dw [3, 3, Ci, Co] of sum(conv(x, w) * dy) in float64. */
export function conv64BackFilter(c: Case, x: Float32Array, dy: Float32Array): Float64Array {
  const dw = new Float64Array(9 * c.ci * c.co);
  forEachTap(c, (xAt, yAt, wAt) => {
    for (let i = 0; i < c.ci; i++)
      for (let o = 0; o < c.co; o++) dw[wAt + i * c.co + o] += x[xAt + i] * dy[yAt + o];
  });
  return dw;
}
