// oneDNN direct against our Winograd F(2x2,3x3), forward, backward-data and backward-weights, interleaved in one run
// (the machine is shared: compare the ratios, not the absolute rates).
// Usage: node bench/winograd-rates.mjs [imageSize=256] [batch=64] [repeats=3] [ci,co ...]
// Prints per layer and pass: best wall ms and GFLOP/s (direct-convolution FLOPs, 2*B*Ho*Wo*9*Ci*Co)
// of each algorithm, the speed-up, and the ratio of CPU times (user + system of this process: less
// disturbed by other processes than wall time on a shared machine).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const addon = createRequire(import.meta.url)(
  fileURLToPath(new URL('../native/build/Release/vbn_native.node', import.meta.url)),
);
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
console.log(`${B} images of ${S}x${S}; threads ${addon.info().threads}`);
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
    fwd: (algorithm) =>
      addon.conv2d({
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
    bwdData: (algorithm) =>
      addon.conv2dBackpropInput({
        dy,
        dyShape: yShape,
        w,
        wShape,
        dx,
        dxShape: xShape,
        ...same,
        algorithm,
      }),
    bwdWeights: (algorithm) =>
      addon.conv2dBackpropFilter({
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
  for (const [pass, f] of Object.entries(run)) {
    const best = { 1: Infinity, 2: Infinity };
    const cpu = { 1: Infinity, 2: Infinity };
    for (let r = 0; r <= Number(repeats); r++) {
      for (const alg of [1, 2]) {
        const u = process.cpuUsage();
        const t = performance.now();
        f(alg);
        const ms = performance.now() - t;
        const c = process.cpuUsage(u);
        if (r === 0) continue; // warm-up: primitive creation
        best[alg] = Math.min(best[alg], ms);
        cpu[alg] = Math.min(cpu[alg], (c.user + c.system) / 1e3);
      }
    }
    const rate = (ms) => ((gflop / ms) * 1e3).toFixed(0);
    console.log(
      `${ci}->${co} @${h} ${pass.padEnd(8)} direct ${best[1].toFixed(0)} ms ${rate(best[1])} GF/s | winograd ${best[2].toFixed(0)} ms ${rate(best[2])} GF/s | x${(best[1] / best[2]).toFixed(2)} wall, x${(cpu[1] / cpu[2]).toFixed(2)} cpu`,
    );
  }
  h = ho;
}
