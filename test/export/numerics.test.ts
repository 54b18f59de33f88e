import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freezeAffine, freezeStatistics, vbnRelu } from '../../src/export/norm-onnx.js';
import { OnnxGraph } from '../../src/export/onnx-graph.js';
import { useBackend } from '../../src/node.js';
import { virtualBatchNorm } from '../../src/vbn/normalize.js';
import { referenceStatistics } from '../../src/vbn/statistics.js';
import { tempDir, writeNpy } from '../support/fixtures.js';
import { maxAbsDiff, pythonSuiteEnabled, readFloats, runOnnx } from '../support/onnx.js';

/** Activations `[B, C, h, w]` (NCHW, as in the graph) with mean 1e4 and standard deviation 1. */
const [B, C, N, S] = [5, 3, 8, 6];
const OFFSET = 1e4;
const dir = tempDir('vbn-export-numerics-');

describe.skipIf(!pythonSuiteEnabled())('the exported VBN layer in onnxruntime', () => {
  const expected: Record<string, Float32Array> = {};

  beforeAll(async () => {
    await useBackend('cpu');
    const y = tf.add(tf.randomNormal([B, C, S, S], 0, 1, 'float32', 1), OFFSET);
    const reference = tf.add(tf.randomNormal([N, C, S, S], 0, 1, 'float32', 2), OFFSET);
    const gamma = tf.tensor1d([1.5, 0.5, 1]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3]);
    const stats = referenceStatistics(reference, { axis: 1 });
    writeNpy(join(dir, 'y.npy'), y.dataSync(), [B, C, S, S], 'f4');
    const jobs = (['virtual', 'reference'] as const).map((mode) => {
      const g = new OnnxGraph();
      const weight = mode === 'virtual' ? 1 / (N + 1) : 0;
      const affine = freezeAffine(gamma, beta, 1e-5);
      const out = vbnRelu(g, 'vbn', 'y', freezeStatistics(stats), weight, affine);
      const file = join(dir, `${mode}.onnx`);
      const shape = ['batch' as const, C, S, S];
      writeFileSync(
        file,
        g.encode({
          graphName: mode,
          inputs: [{ name: 'y', shape }],
          outputs: [{ name: out, shape }],
          docString: '',
          metadata: {},
          producerVersion: '',
        }),
      );
      expected[mode] = tf.tidy(
        () => tf.relu(virtualBatchNorm(y, stats, { mode, gamma, beta })).dataSync() as Float32Array,
      );
      return { model: file, input: join(dir, 'y.npy'), output: join(dir, `${mode}-out.npy`) };
    });
    tf.dispose([y, reference, gamma, beta, stats.mean, stats.variance, stats.meanOfSquares]);
    tf.dispose([stats.pivot, stats.offset]);
    await runOnnx(dir, jobs);
  });

  it.each(['virtual', 'reference'])(
    '%s mode: features with mean 1e4 and std 1 normalize as in vbn within 1e-4 (centred on the reference mean, no E[x^2] - E[x]^2)',
    (mode) => {
      const got = readFloats(join(dir, `${mode}-out.npy`)).values;
      const diff = maxAbsDiff(got, expected[mode]);
      console.log(`${mode}: max |onnxruntime - vbn| at mean 1e4 = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-4);
      // Not trivially zero: the outputs spread over a few units.
      expect(Math.max(...expected[mode])).toBeGreaterThan(1);
    },
  );
});
