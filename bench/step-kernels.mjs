// One seed-scale training step after two warm-ups: wall time, time per kernel (outermost calls),
// minor page faults and system CPU time (process.resourceUsage around the step).
//   node bench/step-kernels.mjs [repo]   # repo: another checkout's root, to compare engines
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
const { seedStep } = await import(pathToFileURL(`${root}/bench/seed-step.mjs`).href);
const step = await seedStep({ size: 256 });
const engine = tf.engine();
const run = engine.runKernel.bind(engine);
const times = {};
let depth = 0;
engine.runKernel = (name, inputs, attrs) => {
  const t = performance.now();
  depth++;
  try {
    return run(name, inputs, attrs);
  } finally {
    depth--;
    if (depth === 0) times[name] = (times[name] ?? 0) + performance.now() - t;
  }
};
step();
step();
for (const k of Object.keys(times)) delete times[k];
const before = process.resourceUsage();
const t0 = performance.now();
step();
const seconds = (performance.now() - t0) / 1000;
const after = process.resourceUsage();
console.log(
  `step ${seconds.toFixed(2)} s; minor page faults ${after.minorPageFault - before.minorPageFault}; ` +
    `system CPU ${((after.systemCPUTime - before.systemCPUTime) / 1e6).toFixed(2)} s; ` +
    `user CPU ${((after.userCPUTime - before.userCPUTime) / 1e6).toFixed(2)} s; ` +
    `peak RSS ${(after.maxRSS / 2 ** 20).toFixed(2)} GiB`,
);
const rows = Object.entries(times).sort((a, b) => b[1] - a[1]);
console.log(
  rows
    .filter(([, ms]) => ms >= 5)
    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(2)} s`)
    .join(', '),
);
