// Times a GAN step (by default vbn gan's: GAN_DEFAULTS' networks, sizes and learning rates) and
// prints where it goes:
//   node bench/gan-step.mjs [backend=native] [generator filters] [discriminator filters] [norm] [batch] [reference] [output stride] [codes]
// Mean of 10 steps after 3 warm-ups, then one profiled step: kernel time per kernel name.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';

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
const g = vbn.createGenerator({
  filters: list(gf),
  norm,
  outputStride: Number(outputStride),
  codes: Number(codes),
});
const d = vbn.createDiscriminator({ filters: list(df), codes: Number(codes) });
const nets = {
  generator: g,
  discriminator: d,
  gParams: g.init(1),
  dParams: d.init(2),
  gOptimizer: vbn.ganOptimizer(D.lr, D.beta1),
  dOptimizer: vbn.ganOptimizer(D.dLr, D.beta1),
};
const refZ = vbn.latents(0, 1, Number(ref), 64, Number(codes));
const z = vbn.latents(0, 2, Number(batch), 64, Number(codes));
const real = tf.randomUniform([Number(batch), 28, 28, 1], -1, 1, 'float32', 3);
const step = () => vbn.ganStep(nets, norm === 'vbn' ? refZ : null, z, real);
for (let i = 0; i < 3; i++) step();
const t0 = performance.now();
for (let i = 0; i < 10; i++) step();
console.log(
  `${backend}, norm ${norm}, G ${gf}, D ${df}, batch ${batch}, reference ${ref}, output stride ${outputStride}, codes ${codes}: ${((performance.now() - t0) / 10).toFixed(1)} ms per step (mean of 10)`,
);
const p0 = performance.now();
const profile = await tf.profile(step);
const profiledMs = performance.now() - p0;
const byName = new Map();
let kernelMs = 0;
for (const k of profile.kernels) {
  const ms = await k.kernelTimeMs;
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  byName.set(k.name, { ms: e.ms + (typeof ms === 'number' ? ms : 0), calls: e.calls + 1 });
  kernelMs += typeof ms === 'number' ? ms : 0;
}
console.log(
  `profiled step: ${profiledMs.toFixed(1)} ms, ${profile.kernels.length} kernel calls taking ${kernelMs.toFixed(1)} ms; the rest (${(profiledMs - kernelMs).toFixed(1)} ms) is JavaScript between kernels (tape, tidy, optimizer, profiler)`,
);
const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
console.log('kernel                 ms  calls');
for (const [name, e] of rows) {
  console.log(`${name.padEnd(20)} ${e.ms.toFixed(1).padStart(5)} ${String(e.calls).padStart(6)}`);
}
