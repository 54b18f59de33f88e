import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createVbnNet, useBackend } from 'vbn';
import { evaluate, evaluateAsync } from '../../src/train/evaluate.js';
import { trainStep, trainStepAsync } from '../../src/train/step.js';
import { BACKENDS, randn } from '../support/helpers.js';

// The page trains with the asynchronous twins (webgpu reads only asynchronously): they must be
// the same computation, to the bit, as the ones Node trains with.
describe.each(BACKENDS)('trainStepAsync and evaluateAsync on %s', (backend) => {
  it('give the bits of trainStep and evaluate, and leave no tensors behind', async () => {
    await useBackend(backend);
    const net = createVbnNet({ inputShape: [8, 8, 1], filters: [3, 4], numClasses: 3 });
    const data = {
      images: randn(20 * 64, 3),
      labels: Int32Array.from({ length: 20 }, (_, i) => i % 3),
      shape: [8, 8, 1] as [number, number, number],
      classNames: ['a', 'b', 'c'],
    };
    const reference = tf.tensor4d(randn(4 * 64, 4), [4, 8, 8, 1]);
    const x = tf.tensor4d(data.images.subarray(0, 5 * 64), [5, 8, 8, 1]);
    const y = tf.tensor1d(data.labels.subarray(0, 5), 'int32');
    const before = tf.memory().numTensors;
    const run = async (async: boolean) => {
      const params = net.init(7);
      const opt = tf.train.adam(0.01);
      const losses: number[] = [];
      for (let k = 0; k < 3; k++) {
        const o = { strategy: 'two-pass' as const, loss: 'softmax-cross-entropy' as const };
        const r = async
          ? await trainStepAsync(net, params, opt, reference, x, y, o)
          : trainStep(net, params, opt, reference, x, y, o);
        losses.push(r.loss, r.correct);
      }
      const o = {
        strategy: 'two-pass' as const,
        loss: 'softmax-cross-entropy' as const,
        batchSize: 6,
      };
      const ev = async
        ? await evaluateAsync(net, params, reference, data, o)
        : evaluate(net, params, reference, data, o);
      const weights = Object.values(params).map((p) => Array.from(p.dataSync()));
      tf.dispose(Object.values(params));
      opt.dispose();
      return { losses, ev, weights };
    };
    const sync = await run(false);
    const afterSync = tf.memory().numTensors;
    const asyncRun = await run(true);
    expect(asyncRun).toEqual(sync);
    expect(tf.memory().numTensors).toBe(afterSync);
    expect(afterSync).toBe(before);
    tf.dispose([reference, x, y]);
    await useBackend('cpu');
  });
});
