import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect, it } from 'vitest';
import {
  Tape,
  VirtualBatchNormalization,
  leaves,
  referenceBatchNorm64,
  valuesOf,
  virtualBatchNorm64,
  type VbnMode,
} from 'vbn';
import { randomTensor, relErr } from '../support/helpers.js';
import { describeBackends } from '../support/backends.js';

/** Oracle for the layer's one-pass layout: reference rows first, then inputs. */
function oracle(
  all: Float64Array,
  shape: number[],
  n: number,
  mode: VbnMode,
  gamma: number[],
  beta: number[],
) {
  const t = new Tape();
  const per = all.length / shape[0];
  const ref = leaves(t, [n, ...shape.slice(1)], all.subarray(0, n * per));
  const x = leaves(t, [shape[0] - n, ...shape.slice(1)], all.subarray(n * per));
  const opts = {
    mode,
    axis: shape.length - 1,
    batchAxis: 0,
    epsilon: 1e-3,
    stopReferenceGradient: false,
    gamma: gamma.map((g) => t.leaf(g)),
    beta: beta.map((b) => t.leaf(b)),
  };
  return Float64Array.from([
    ...valuesOf(t, referenceBatchNorm64(t, ref, opts)),
    ...valuesOf(t, virtualBatchNorm64(t, x, ref, opts)),
  ]);
}

describeBackends('VirtualBatchNormalization layer on %s', () => {
  for (const mode of ['virtual', 'reference'] as VbnMode[]) {
    it(`${mode}: a sequential model's output matches the float64 oracle`, () => {
      const model = tfl.sequential({
        layers: [
          new VirtualBatchNormalization({
            referenceSize: 4,
            mode,
            epsilon: 1e-3,
            inputShape: [3, 3, 2],
            gammaInitializer: tfl.initializers.constant({ value: 1.5 }),
            betaInitializer: tfl.initializers.constant({ value: -0.25 }),
          }),
        ],
      });
      const data = randomTensor([7, 3, 3, 2], 5);
      const out = (model.predict(data.tensor) as tf.Tensor).dataSync();
      expect(
        relErr(out, oracle(data.values, data.shape, 4, mode, [1.5, 1.5], [-0.25, -0.25])),
      ).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it('trains gamma and beta (and only them) through model.fit', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 3, inputShape: [4], useBias: false }),
        new VirtualBatchNormalization({ referenceSize: 8 }),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const vbn = model.layers[1];
    // Its only weights are gamma and beta, both trainable: no moving statistics, no reference.
    const own = (ws: { originalName: string }[]) => ws.map((w) => w.originalName.split('/').pop());
    expect(own(vbn.trainableWeights)).toEqual(['gamma', 'beta']);
    expect(vbn.nonTrainableWeights).toEqual([]);
    expect(vbn.weights.length).toBe(2);
    const before = vbn.getWeights().map((w) => w.dataSync().slice());
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    const x = randomTensor([16, 4], 6).tensor;
    const y = tf.sum(x, 1, true);
    const h = await model.fit(x, y, { epochs: 20, batchSize: 16, verbose: 0, shuffle: false });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    // Both moved: fit reached them through VBN's gradient.
    vbn
      .getWeights()
      .forEach((w, i) => expect(relErr(w.dataSync(), before[i])).toBeGreaterThan(1e-3));
    model.dispose();
    tf.dispose([x, y]);
  });

  it('survives a save/load round trip bit-for-bit (config, weights, outputs)', async () => {
    const model = tfl.sequential({
      layers: [
        new VirtualBatchNormalization({
          referenceSize: 3,
          mode: 'reference',
          axis: 1,
          epsilon: 1e-4,
          inputShape: [2, 5],
          gammaRegularizer: tfl.regularizers.l2({ l2: 0.01 }),
          betaInitializer: tfl.initializers.randomNormal({ seed: 3 }),
        }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const layer = loaded.layers[0] as VirtualBatchNormalization;
    expect(layer).toBeInstanceOf(VirtualBatchNormalization);
    expect(layer.getConfig()).toEqual(model.layers[0].getConfig());
    expect(layer.referenceSize).toBe(3);
    expect(layer.mode).toBe('reference');
    const x = randomTensor([6, 2, 5], 9).tensor;
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    model.getWeights().forEach((w, i) => {
      expect(Array.from(loaded.getWeights()[i].dataSync())).toEqual(Array.from(w.dataSync()));
    });
    model.dispose();
    loaded.dispose();
    x.dispose();
  });
});
