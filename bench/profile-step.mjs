// Per-kernel time of one training step: node bench/profile-step.mjs [backend] [imageSize] [strategy]
// Prints the kernels by total time, plus wall time, user/system CPU seconds and peak RSS.
import * as tf from '@tensorflow/tfjs-core';
import { seedStep } from './seed-step.mjs';

const [backend = 'native', size = '128', strategy = 'concat'] = process.argv.slice(2);
const step = await seedStep({ backend, size: Number(size), strategy });
step();
const u0 = process.cpuUsage();
const t0 = performance.now();
step();
const u1 = process.cpuUsage(u0);
console.log(
  `step ${((performance.now() - t0) / 1000).toFixed(2)} s wall, user ${(u1.user / 1e6).toFixed(2)} s, system ${(u1.system / 1e6).toFixed(2)} s`,
);
const prof = await tf.profile(step);
const agg = {};
for (const k of prof.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  agg[k.name] ??= [0, 0];
  agg[k.name][0] += ms;
  agg[k.name][1]++;
}
for (const [k, [ms, n]] of Object.entries(agg)
  .sort((a, b) => b[1][0] - a[1][0])
  .slice(0, 14)) {
  console.log(`${k.padEnd(24)} ${ms.toFixed(0).padStart(7)} ms  x${n}`);
}
console.log(`minor page faults ${process.resourceUsage().minorPageFault}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GB`);
