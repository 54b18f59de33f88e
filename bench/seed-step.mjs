// The seed network's training step for the profiling scripts: 32 inputs + 32 reference images
// [32, size, size, 1], 3x3 stride-1 'valid' convolutions, softmax cross-entropy, Adam 1e-3.
// Fixed seeds, so every script times the same step. Returns the step as a function of nothing.
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';

export async function seedStep({
  backend = 'native',
  size = 256,
  strategy = 'concat',
  mode = 'virtual',
  filters = [16, 32, 64],
} = {}) {
  await vbn.useBackend(backend);
  tf.enableProdMode();
  const net = vbn.createVbnNet({ inputShape: [size, size, 1], filters, mode });
  const p = net.init(1);
  const R = tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 5);
  const X = tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 6);
  const y = tf.tensor1d(
    Array.from({ length: 32 }, (_, i) => i % 2),
    'int32',
  );
  const opt = tf.train.adam(1e-3);
  return () => vbn.trainStep(net, p, opt, R, X, y, { strategy, loss: 'softmax-cross-entropy' });
}

// Run directly: `node bench/seed-step.mjs [steps=3] [size=256]` times a warm-up and `steps` steps,
// printing each step's wall time and this process's CPU time (user + system) over it: on a shared
// machine, with OMP_WAIT_POLICY=passive (idle OpenMP threads sleep instead of spinning), the CPU
// time measures the work even when the wall time does not. The engine's kernels (info().isa) and
// its FMA ceiling are printed first.
if (import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const [stepsArg = '3', sizeArg = '256'] = process.argv.slice(2);
  const { nativeInfo, measureFmaCeiling } = await import('../dist/backend/node/native.js');
  const step = await seedStep({ size: Number(sizeArg) });
  const info = nativeInfo();
  const peak = measureFmaCeiling(info.threads);
  console.log(
    `kernels ${info.isa}, ${info.threads} threads; FMA ceiling ${peak.gflops.toFixed(1)} GFLOP/s (${peak.isa})`,
  );
  for (let i = 0; i <= Number(stepsArg); i++) {
    const u = process.cpuUsage();
    const t = performance.now();
    step();
    const wall = (performance.now() - t) / 1000;
    const c = process.cpuUsage(u);
    const cpu = (c.user + c.system) / 1e6;
    console.log(
      `${i === 0 ? 'warm-up' : `step ${i}`}: ${wall.toFixed(3)} s wall, ${cpu.toFixed(3)} s cpu (system ${(c.system / 1e6).toFixed(3)})`,
    );
  }
}
