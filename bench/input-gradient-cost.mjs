// What the concat step's gradient to its input costs at seed scale (native engine): the usual
// training step (gradients of the parameters only: TensorFlow.js skips the input's gradient) against
// the same step with the reference a trainable variable (the first convolution's input gradient,
// Conv2DBackpropInput to 1 channel, is then computed). Alternates the two, prints each step's time.
//   node bench/input-gradient-cost.mjs [size=256] [steps=3]
import * as tf from '@tensorflow/tfjs-core';
import * as vbn from 'vbn';

const size = Number(process.argv[2] ?? 256);
const steps = Number(process.argv[3] ?? 3);
await vbn.useBackend('native');
tf.enableProdMode();
const net = vbn.createVbnNet({ inputShape: [size, size, 1], filters: [16, 32, 64] });
const params = net.init(1);
const reference = tf.variable(tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 5), true);
const x = tf.randomNormal([32, size, size, 1], 0, 1, 'float32', 6);
const labels = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 32 }, (_, i) => i % 2),
    'int32',
  ),
  2,
);
const loss = () => tf.losses.softmaxCrossEntropy(labels, net.apply(params, reference, x));

function step(withReference) {
  const vars = [...Object.values(params), ...(withReference ? [reference] : [])];
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(loss, vars);
  const ms = performance.now() - t0;
  const has = grads[reference.name] !== undefined;
  tf.dispose([value, ...Object.values(grads)]);
  return { ms, has };
}

// The profile's Conv2DBackpropInput calls, and with the reference the time of the one into the input.
const kernels = async (withReference) => {
  const p = await tf.profile(() => step(withReference));
  const calls = p.kernels.filter((k) => k.name === 'Conv2DBackpropInput');
  const into = calls.find((k) => k.outputShapes[0]?.[3] === 1);
  const total = p.kernels.reduce((a, k) => a + Number(k.kernelTimeMs), 0);
  const shapes = calls.map((k) => `[${k.inputShapes[0]}] -> [${k.outputShapes[0]}]`).join(', ');
  return { shapes, intoMs: into ? Number(into.kernelTimeMs) : 0, total };
};
const profiled = [await kernels(false), await kernels(true)];
console.log(`Conv2DBackpropInput, parameters only: ${profiled[0].shapes}`);
console.log(`Conv2DBackpropInput, with the reference: ${profiled[1].shapes}`);
const into = profiled[1].intoMs;
console.log(
  `the input's gradient kernel: ${into.toFixed(1)} ms, ${((100 * into) / profiled[0].total).toFixed(2)}% of the parameters-only step's kernel time (${(profiled[0].total / 1000).toFixed(3)} s)`,
);
const times = { params: [], reference: [] };
for (let i = 0; i < steps; i++) {
  for (const withReference of [false, true]) {
    const r = step(withReference);
    times[withReference ? 'reference' : 'params'].push(r.ms);
    console.log(
      `${withReference ? 'with the reference' : 'parameters only   '} ${(r.ms / 1000).toFixed(3)} s (reference gradient: ${r.has})`,
    );
  }
}
const best = (a) => Math.min(...a);
const extra = best(times.reference) - best(times.params);
console.log(
  `best: parameters only ${(best(times.params) / 1000).toFixed(3)} s, with the reference ${(best(times.reference) / 1000).toFixed(3)} s: +${(extra / 1000).toFixed(3)} s (${((100 * extra) / best(times.params)).toFixed(1)}% of the step)`,
);
