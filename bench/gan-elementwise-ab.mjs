// vbn gan's default step (with the real batch's labels, as `vbn gan` runs it) on the native
// backend with its engine element-wise kernels and fused Adam (A) and with the JS loop / cpu kernels in their
// place (B: what it ran before, which for large same-shape Add was a plain engine loop), interleaved in rounds in one process so that other load on a shared machine hits both:
//   node bench/gan-elementwise-ab.mjs [rounds=5] [steps per round=5]
// Prints the best and median step of each, in ms, and B / A.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';
import { ganBenchStep } from '../dist/cli/bench-gan.js';
import { loopKernels } from '../dist/backend/loop-kernels.js';

const [rounds = 5, steps = 5] = process.argv.slice(2).map(Number);
await vbn.useBackend('native');
tf.enableProdMode();
const NAMES = ['Add', 'Sub', 'Multiply', 'RealDiv', 'LeakyRelu', 'Step'];
const engine = Object.fromEntries(NAMES.map((n) => [n, tf.getKernel(n, 'native').kernelFunc]));
// What the native backend ran before: the loop kernel (new arrays for outputs), else cpu's.
const loops = loopKernels((size) => new Float32Array(size));
const cpu = Object.fromEntries(
  NAMES.map((n) => {
    const c = tf.getKernel(n, 'cpu').kernelFunc;
    const loop = loops[n];
    return [n, loop ? (args) => loop(args) ?? c(args) : c];
  }),
);
const adam = tf.getKernel('AdamUpdate', 'native');
// B also goes without the fused Adam kernel (GanAdam then runs tf.js' own update).
const use = (set) => {
  for (const n of NAMES) {
    tf.unregisterKernel(n, 'native');
    tf.registerKernel({ kernelName: n, backendName: 'native', kernelFunc: set[n] });
  }
  if (tf.getKernel('AdamUpdate', 'native')) tf.unregisterKernel('AdamUpdate', 'native');
  if (set === engine) tf.registerKernel(adam);
};
const step = ganBenchStep();
const times = { engine: [], cpu: [] };
const cpuTimes = { engine: [], cpu: [] }; // process CPU time (user + system), less sensitive to other load
for (const [, set] of [
  ['engine', engine],
  ['cpu', cpu],
]) {
  use(set);
  for (let i = 0; i < 3; i++) step();
}
for (let r = 0; r < rounds; r++) {
  for (const [k, set] of [
    ['engine', engine],
    ['cpu', cpu],
  ]) {
    use(set);
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      step();
      times[k].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuTimes[k].push((c.user + c.system) / 1000);
    }
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const f = (a) => `best ${Math.min(...a).toFixed(1)} ms, median ${med(a).toFixed(1)} ms`;
console.log(`engine element-wise kernels: ${f(times.engine)}; CPU time ${f(cpuTimes.engine)}`);
console.log(`JS loop / cpu kernels:       ${f(times.cpu)}; CPU time ${f(cpuTimes.cpu)}`);
console.log(
  `CPU time, cpu / engine: median ${(med(cpuTimes.cpu) / med(cpuTimes.engine)).toFixed(2)}; wall, cpu / engine: best ${(Math.min(...times.cpu) / Math.min(...times.engine)).toFixed(2)}, median ${(med(times.cpu) / med(times.engine)).toFixed(2)}`,
);
