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
  for (let n = 0; n < c.b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const iy = oy - c.pads[0] + kh;
            const ix = ox - c.pads[2] + kw;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
            for (let i = 0; i < c.ci; i++) {
              const xv = x[((n * c.h + iy) * c.w + ix) * c.ci + i];
              for (let o = 0; o < c.co; o++) {
                const p = xv * w[((kh * 3 + kw) * c.ci + i) * c.co + o];
                const k = ((n * ho + oy) * wo + ox) * c.co + o;
                y[k] += p;
                scale[k] += Math.abs(p);
              }
            }
          }
  return { y, scale };
}

/** dx [B, H, W, Ci] of sum(conv(x, w) * dy) in float64, and its per-element scale. */
export function conv64BackData(c: Case, dy: Float32Array, w: Float32Array) {
  const [ho, wo] = outSize(c);
  const dx = new Float64Array(c.b * c.h * c.w * c.ci);
  const scale = new Float64Array(dx.length);
  for (let n = 0; n < c.b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const iy = oy - c.pads[0] + kh;
            const ix = ox - c.pads[2] + kw;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
            for (let o = 0; o < c.co; o++) {
              const g = dy[((n * ho + oy) * wo + ox) * c.co + o];
              for (let i = 0; i < c.ci; i++) {
                const p = g * w[((kh * 3 + kw) * c.ci + i) * c.co + o];
                const k = ((n * c.h + iy) * c.w + ix) * c.ci + i;
                dx[k] += p;
                scale[k] += Math.abs(p);
              }
            }
          }
  return { y: dx, scale };
}

/** dw [3, 3, Ci, Co] of sum(conv(x, w) * dy) in float64. */
export function conv64BackFilter(c: Case, x: Float32Array, dy: Float32Array): Float64Array {
  const [ho, wo] = outSize(c);
  const dw = new Float64Array(9 * c.ci * c.co);
  for (let n = 0; n < c.b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++) {
            const iy = oy - c.pads[0] + kh;
            const ix = ox - c.pads[2] + kw;
            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
            for (let i = 0; i < c.ci; i++) {
              const xv = x[((n * c.h + iy) * c.w + ix) * c.ci + i];
              for (let o = 0; o < c.co; o++)
                dw[((kh * 3 + kw) * c.ci + i) * c.co + o] +=
                  xv * dy[((n * ho + oy) * wo + ox) * c.co + o];
            }
          }
  return dw;
}
