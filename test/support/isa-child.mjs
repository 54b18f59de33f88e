// Runs convolutions through the native addon in a process of its own (test/backend/isa.test.ts
// starts it with and without VBN_ISA=avx2, which the addon reads when it loads).
//   node test/support/isa-child.mjs ADDON.node IN.json OUT.json
// IN: { cases: [{ b, h, w, ci, co, pads: [top, bottom, left, right], xData, wData, dyData }],
// algorithms }
// (tensors as base64 Float32 bytes); OUT: { isa, results: [[{ algorithm, y, dx, dw }]] }, per case
// and algorithm, y, dx and dw as base64.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [addonPath, inPath, outPath] = process.argv.slice(2);
const addon = createRequire(import.meta.url)(addonPath);
const { cases, algorithms } = JSON.parse(readFileSync(inPath, 'utf8'));
const floats = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const text = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const results = cases.map((c) => {
  const [top, bottom, left, right] = c.pads;
  const [ho, wo] = [c.h + top + bottom - 2, c.w + left + right - 2];
  const xs = [c.b, c.h, c.w, c.ci];
  const ws = [3, 3, c.ci, c.co];
  const ys = [c.b, ho, wo, c.co];
  const geometry = { strides: [1, 1], padL: [top, left], padR: [bottom, right], dilations: [1, 1] };
  const [x, w, dy] = [floats(c.xData), floats(c.wData), floats(c.dyData)];
  return algorithms.map((algorithm) => {
    const y = new Float32Array(c.b * ho * wo * c.co);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const [xShape, wShape] = [xs, ws];
    addon.conv2d({
      x,
      xShape,
      w,
      wShape,
      out: y,
      outShape: ys,
      ...geometry,
      bias: null,
      activation: 0,
      algorithm,
    });
    addon.conv2dBackpropInput({
      dy,
      dyShape: ys,
      w,
      wShape,
      dx,
      dxShape: xs,
      ...geometry,
      algorithm,
    });
    addon.conv2dBackpropFilter({
      x,
      xShape,
      dy,
      dyShape: ys,
      dw,
      dwShape: ws,
      ...geometry,
      algorithm,
    });
    return { algorithm, y: text(y), dx: text(dx), dw: text(dw) };
  });
});
writeFileSync(outPath, JSON.stringify({ isa: addon.info().isa, results }));
