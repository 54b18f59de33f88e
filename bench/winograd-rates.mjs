// oneDNN direct against our Winograd F(2x2,3x3), forward, backward-data and backward-weights, interleaved in one run
// (the machine is shared: compare the ratios, not the absolute rates).
// Usage: node bench/winograd-rates.mjs [imageSize=256] [batch=64] [repeats=3] [ci,co ...]
// Prints per layer and pass: best wall ms and GFLOP/s (direct-convolution FLOPs, 2*B*Ho*Wo*9*Ci*Co)
// of each algorithm, the speed-up, and the ratio of CPU times (user + system of this process: less
// disturbed by other processes than wall time on a shared machine).
// On the AVX-512 path (info().isa, see native/src/isa.h) a second copy of the addon, loaded with
// VBN_ISA=avx2, adds the AVX2 Winograd kernels as a third column (oneDNN is the same library in
// both copies: its direct kernels stay AVX-512). Run with VBN_ISA=avx2 for the AVX2 machine's view.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const built = fileURLToPath(new URL('../native/build/Release/vbn_native.node', import.meta.url));
const addon = require(built);
let avx2 = null;
if (addon.info().isa === 'avx512') {
  // oneDNN dispatches its first kernel at full ISA before the copy can cap it.
  const one = Float32Array.of(1);
  addon.conv2d({
    x: one,
    xShape: [1, 1, 1, 1],
    w: one,
    wShape: [1, 1, 1, 1],
    out: Float32Array.of(0),
    outShape: [1, 1, 1, 1],
    strides: [1, 1],
    padL: [0, 0],
    padR: [0, 0],
    dilations: [1, 1],
    bias: null,
    activation: 0,
  });
  const copy = join(mkdtempSync(join(tmpdir(), 'vbn-isa-')), 'vbn_native_avx2.node');
  copyFileSync(built, copy);
  process.env.VBN_ISA = 'avx2';
  avx2 = require(copy);
  delete process.env.VBN_ISA;
}
const [size = '256', batch = '64', repeats = '3', ...pairs] = process.argv.slice(2);
const S = Number(size);
const B = Number(batch);
const layers = pairs.length
  ? pairs.map((p) => p.split(',').map(Number))
  : [
      [16, 32],
      [32, 64],
    ];
const random = (n) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
};
const same = { strides: [1, 1], padL: [0, 0], padR: [0, 0], dilations: [1, 1] };
let h = S - 2;
console.log(
  `${B} images of ${S}x${S}; threads ${addon.info().threads}; kernels ${addon.info().isa}${avx2 ? ' (+ AVX2 copy: ' + avx2.info().isa + ')' : ''}`,
);
for (const [ci, co] of layers) {
  const ho = h - 2;
  const x = random(B * h * h * ci);
  const w = random(9 * ci * co);
  const y = new Float32Array(B * ho * ho * co);
  const dy = random(B * ho * ho * co);
  const dx = new Float32Array(B * h * h * ci);
  const dw = new Float32Array(9 * ci * co);
  const gflop = (2 * B * ho * ho * 9 * ci * co) / 1e9;
  const [xShape, wShape, yShape] = [
    [B, h, h, ci],
    [3, 3, ci, co],
    [B, ho, ho, co],
  ];
  const run = {
    fwd: (algorithm, a = addon) =>
      a.conv2d({
        x,
        xShape,
        w,
        wShape,
        out: y,
        outShape: yShape,
        ...same,
        bias: null,
        activation: 0,
        algorithm,
      }),
    bwdData: (algorithm, a = addon) =>
      a.conv2dBackpropInput({
        dy,
        dyShape: yShape,
        w,
        wShape,
        dx,
        dxShape: xShape,
        ...same,
        algorithm,
      }),
    bwdWeights: (algorithm, a = addon) =>
      a.conv2dBackpropFilter({
        x,
        xShape,
        dy,
        dyShape: yShape,
        dw,
        dwShape: wShape,
        ...same,
        algorithm,
      }),
  };
  // Variants: oneDNN direct (1), Winograd (2), and Winograd on the AVX2 copy (3).
  const variants = avx2 ? [1, 2, 3] : [1, 2];
  const call = (f, v) => (v === 3 ? f(2, avx2) : f(v));
  for (const [pass, f] of Object.entries(run)) {
    const best = { 1: Infinity, 2: Infinity, 3: Infinity };
    const cpu = { 1: Infinity, 2: Infinity, 3: Infinity };
    for (let r = 0; r <= Number(repeats); r++) {
      for (const v of variants) {
        const u = process.cpuUsage();
        const t = performance.now();
        call(f, v);
        const ms = performance.now() - t;
        const c = process.cpuUsage(u);
        if (r === 0) continue; // warm-up: primitive creation
        best[v] = Math.min(best[v], ms);
        cpu[v] = Math.min(cpu[v], (c.user + c.system) / 1e3);
      }
    }
    const rate = (ms) => ((gflop / ms) * 1e3).toFixed(0);
    const third = avx2
      ? ` | winograd-avx2 ${best[3].toFixed(0)} ms ${rate(best[3])} GF/s (avx512 x${(best[3] / best[2]).toFixed(2)} wall, x${(cpu[3] / cpu[2]).toFixed(2)} cpu)`
      : '';
    console.log(
      `${ci}->${co} @${h} ${pass.padEnd(8)} direct ${best[1].toFixed(0)} ms ${rate(best[1])} GF/s | winograd ${best[2].toFixed(0)} ms ${rate(best[2])} GF/s | x${(best[1] / best[2]).toFixed(2)} wall, x${(cpu[1] / cpu[2]).toFixed(2)} cpu${third}`,
    );
  }
  h = ho;
}
