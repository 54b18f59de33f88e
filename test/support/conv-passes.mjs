// The native addon's three passes of a stride-1 3x3 convolution on one case (conv64.ts' Case:
// x [B, H, W, Ci], filter [3, 3, Ci, Co], pads [top, bottom, left, right]), with one algorithm,
// through the engine's own entry points. Plain JavaScript: test/support/isa-child.mjs runs it in
// a process of its own; test/backend/winograd-exact.test.ts calls it in the test's.

/** y = conv(x, w), and dx, dw of sum(y * dy): { y, dx, dw }, Float32Arrays. */
export function convPasses(addon, c, x, w, dy, algorithm) {
  const [top, bottom, left, right] = c.pads;
  const [ho, wo] = [c.h + top + bottom - 2, c.w + left + right - 2];
  const xShape = [c.b, c.h, c.w, c.ci];
  const wShape = [3, 3, c.ci, c.co];
  const yShape = [c.b, ho, wo, c.co];
  const geometry = { strides: [1, 1], padL: [top, left], padR: [bottom, right], dilations: [1, 1] };
  const y = new Float32Array(c.b * ho * wo * c.co);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  addon.conv2d({
    x,
    xShape,
    w,
    wShape,
    out: y,
    outShape: yShape,
    ...geometry,
    bias: null,
    activation: 0,
    algorithm,
  });
  addon.conv2dBackpropInput({
    dy,
    dyShape: yShape,
    w,
    wShape,
    dx,
    dxShape: xShape,
    ...geometry,
    algorithm,
  });
  addon.conv2dBackpropFilter({
    x,
    xShape,
    dy,
    dyShape: yShape,
    dw,
    dwShape: wShape,
    ...geometry,
    algorithm,
  });
  return { y, dx, dw };
}
