// Times a GAN step (by default vbn gan's: its networks, sizes, learning rates and labelled real batch) and
// prints where it goes:
//   node bench/gan-step.mjs [backend=native] [generator filters] [discriminator filters] [norm] [batch] [reference] [output stride] [codes]
// Mean of 10 steps after 3 warm-ups, then 10 steps with each kernel timed: kernel time per kernel
// name against the JavaScript between kernels.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';
import { ganBenchStep } from '../dist/cli/bench-gan.js';

const D = vbn.GAN_DEFAULTS;
const [
  backend = 'native',
  gf = D.generatorFilters.join(','),
  df = D.discriminatorFilters.join(','),
  norm = D.norm,
  batch = String(D.batchSize),
  ref = String(D.referenceSize),
  outputStride = String(D.outputStride),
  codes = String(D.runCodes),
] = process.argv.slice(2);
const list = (s) => s.split(',').map(Number);
await vbn.useBackend(backend);
tf.enableProdMode();
const step = ganBenchStep({
  generatorFilters: list(gf),
  discriminatorFilters: list(df),
  norm,
  batchSize: Number(batch),
  referenceSize: Number(ref),
  outputStride: Number(outputStride),
  codes: Number(codes),
});
for (let i = 0; i < 3; i++) step();
const t0 = performance.now();
for (let i = 0; i < 10; i++) step();
console.log(
  `${backend}, norm ${norm}, G ${gf}, D ${df}, batch ${batch}, reference ${ref}, output stride ${outputStride}, codes ${codes}: ${((performance.now() - t0) / 10).toFixed(1)} ms per step (mean of 10)`,
);
// 10 more steps with every kernel of the backend wrapped in a clock (tf.profile's own work, which
// reads every output, would be counted in the kernels' time).
const byName = new Map();
for (const k of tf.getKernelsForBackend(backend)) {
  const f = k.kernelFunc;
  k.kernelFunc = (args) => {
    const t = performance.now();
    const out = f(args);
    const e = byName.get(k.kernelName) ?? { ms: 0, calls: 0 };
    byName.set(k.kernelName, { ms: e.ms + performance.now() - t, calls: e.calls + 1 });
    return out;
  };
}
const p0 = performance.now();
for (let i = 0; i < 10; i++) step();
const stepMs = (performance.now() - p0) / 10;
let kernelMs = 0;
let calls = 0;
for (const e of byName.values()) [kernelMs, calls] = [kernelMs + e.ms / 10, calls + e.calls / 10];
console.log(
  `timed steps: ${stepMs.toFixed(1)} ms, ${calls} kernel calls taking ${kernelMs.toFixed(1)} ms (with their output allocation); the rest (${(stepMs - kernelMs).toFixed(1)} ms) is JavaScript between kernels (tape, tidy, optimizer)`,
);
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
console.log('kernel                 ms  calls (per step)');
for (const [name, e] of rows) {
  console.log(
    `${name.padEnd(20)} ${(e.ms / 10).toFixed(1).padStart(5)} ${String(e.calls / 10).padStart(6)}`,
  );
}
