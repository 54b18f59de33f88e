// Runs convolutions through the native addon in a process of its own (test/backend/isa.test.ts
// starts it with and without VBN_ISA=avx2, which the addon reads when it loads).
//   node test/support/isa-child.mjs ADDON.node IN.json OUT.json
// IN: { cases: [{ b, h, w, ci, co, pads: [top, bottom, left, right], xData, wData, dyData }],
// algorithms }
// (tensors as base64 Float32 bytes); OUT: { isa, results: [[{ algorithm, y, dx, dw }]] }, per case
// and algorithm, y, dx and dw as base64.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { convPasses } from './conv-passes.mjs';

const [addonPath, inPath, outPath] = process.argv.slice(2);
const addon = createRequire(import.meta.url)(addonPath);
const { cases, algorithms } = JSON.parse(readFileSync(inPath, 'utf8'));
const floats = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const text = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const results = cases.map((c) => {
  const [x, w, dy] = [floats(c.xData), floats(c.wData), floats(c.dyData)];
  return algorithms.map((algorithm) => {
    const { y, dx, dw } = convPasses(addon, c, x, w, dy, algorithm);
    return { algorithm, y: text(y), dx: text(dx), dw: text(dw) };
  });
});
writeFileSync(outPath, JSON.stringify({ isa: addon.info().isa, results }));
