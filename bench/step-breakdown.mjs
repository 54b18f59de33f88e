// Per-layer, per-pass breakdown of one training step (tf.profile of the step after a warm-up):
//   node bench/step-breakdown.mjs [imageSize=256] [mode=virtual] [ceilingGflops=229.5] [filters=16,32,64]
// Seed scale by default: 32 inputs + 32 reference images, 3x3 stride-1 'valid' convolutions,
// concat strategy, softmax cross-entropy, Adam. Each kernel call is grouped by kernel name and input
// shapes; convolutions get their FLOPs (2 * B * Ho * Wo * 9 * Ci * Co per pass, the direct count
// whatever the algorithm) and rate as a % of the FMA ceiling (bash ../shared/tools/fma-peak.sh);
// every row gets the bytes its inputs and outputs occupy (a lower bound on the memory traffic).
// Pass: forward, backward-data, backward-weights, VBN (the fused Vbn* kernels), other: as vbn bench --profile.
import * as tf from '@tensorflow/tfjs-core';
import { seedStep } from './seed-step.mjs';
import { PASS_OF_KERNEL } from '../dist/cli/bench-profile.js';

const [size = '256', mode = 'virtual', ceilingArg = '229.5', filtersArg = '16,32,64'] =
  process.argv.slice(2);
const s = Number(size);
const ceiling = Number(ceilingArg);
const step = await seedStep({ size: s, mode, filters: filtersArg.split(',').map(Number) });
step();
const t0 = performance.now();
const u0 = process.cpuUsage();
step();
const u1 = process.cpuUsage(u0);
const wall = (performance.now() - t0) / 1000;
const prof = await tf.profile(step);

// vbn bench --profile's passes, under this table's names.
const LABEL = {
  forward: 'forward',
  backwardData: 'backward-data',
  backwardWeights: 'backward-weights',
  vbn: 'VBN',
};
const PASS = Object.fromEntries(
  Object.entries(PASS_OF_KERNEL).map(([kernel, pass]) => [kernel, LABEL[pass]]),
);
const count = (shape) => shape.reduce((a, b) => a * b, 1);
/** Direct-convolution FLOPs from the shapes of one conv kernel call (NHWC / HWIO). */
function flops(name, ins, outs) {
  const [x, w, yy] =
    name === 'Conv2DBackpropInput'
      ? [outs[0], ins[1], ins[0]]
      : name === 'Conv2DBackpropFilter'
        ? [ins[0], outs[0], ins[1]]
        : [ins[0], ins[1], outs[0]];
  return 2 * yy[0] * yy[1] * yy[2] * w[0] * w[1] * x[3] * yy[3];
}
const rows = new Map();
for (const k of prof.kernels) {
  // A tf.customGrad op (the lean concat blocks) is listed with the time of the kernels it ran,
  // which are listed too.
  if (k.name === 'unnamed scope') continue;
  const ins = k.inputShapes.filter(Boolean);
  const outs = k.outputShapes.filter(Boolean);
  // The activations' shape: VbnLayerLeanGrad's first input is its (maybe pooled) gradient.
  const shape = (k.name === 'VbnLayerLeanGrad' ? ins[1] : ins[0]) ?? [];
  const key = `${k.name} ${JSON.stringify(shape)}`;
  const r = rows.get(key) ?? {
    name: k.name,
    shape,
    ms: 0,
    calls: 0,
    flops: 0,
    bytes: 0,
  };
  r.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  r.calls++;
  if (k.name.startsWith('Conv2D') || k.name === 'FusedConv2D') r.flops += flops(k.name, ins, outs);
  r.bytes += 4 * [...ins, ...outs].reduce((a, sh) => a + count(sh), 0);
  rows.set(key, r);
}
const total = { forward: 0, 'backward-data': 0, 'backward-weights': 0, VBN: 0, other: 0 };
const convFlops = { forward: 0, 'backward-data': 0, 'backward-weights': 0 };
console.log(
  `image ${s}, mode ${mode}, FMA ceiling ${ceiling} GFLOP/s; step ${wall.toFixed(2)} s wall, user ${(u1.user / 1e6).toFixed(2)} s, system ${(u1.system / 1e6).toFixed(2)} s`,
);
console.log(
  '| pass | kernel | first input shape | calls | ms | GFLOP | GFLOP/s | % of ceiling | GB in+out |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of [...rows.values()].sort((a, b) => b.ms - a.ms)) {
  const pass = PASS[r.name] ?? 'other';
  total[pass] += r.ms;
  if (r.flops) convFlops[pass] += r.flops;
  if (r.ms < 20) continue;
  const gf = r.flops / 1e9;
  const rate = r.flops ? gf / (r.ms / 1e3) : 0;
  console.log(
    `| ${pass} | ${r.name} | [${r.shape.join(',')}] | ${r.calls} | ${r.ms.toFixed(0)} | ${r.flops ? gf.toFixed(1) : '-'} | ${r.flops ? rate.toFixed(0) : '-'} | ${r.flops ? ((100 * rate) / ceiling).toFixed(0) + '%' : '-'} | ${(r.bytes / 1e9).toFixed(2)} |`,
  );
}
console.log('\n| pass | ms | GFLOP | GFLOP/s | % of ceiling |');
console.log('| --- | --- | --- | --- | --- |');
for (const [pass, ms] of Object.entries(total)) {
  const gf = (convFlops[pass] ?? 0) / 1e9;
  const rate = gf ? gf / (ms / 1e3) : 0;
  console.log(
    `| ${pass} | ${ms.toFixed(0)} | ${gf ? gf.toFixed(1) : '-'} | ${gf ? rate.toFixed(0) : '-'} | ${gf ? ((100 * rate) / ceiling).toFixed(0) + '%' : '-'} |`,
  );
}
const all = Object.values(convFlops).reduce((a, b) => a + b, 0) / 1e9;
console.log(
  `\nconvolution ${all.toFixed(1)} GFLOP per step; effective rate ${(all / wall).toFixed(0)} GFLOP/s = ${((100 * all) / wall / ceiling).toFixed(0)}% of the ceiling`,
);
console.log(
  `peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GB, minor page faults ${process.resourceUsage().minorPageFault}`,
);
