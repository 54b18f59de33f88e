import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/train/node/load-model.js';
import { createVbnNet } from '../../src/model/net.js';
import { classifierToOnnx, exportOnnx } from '../../src/node.js';
import { imageFolder, tempDir, writeNpy } from '../support/fixtures.js';
import {
  maxAbsDiff,
  pythonSuiteEnabled,
  readFloats,
  runOnnx,
  softmaxRows,
  type OnnxModelReport,
} from '../support/onnx.js';
import { vbn } from '../support/run-cli.js';
import { writeFileSync } from 'node:fs';

/** 3 classes of 12x12 RGB images: 3 channels, so that channels-first is a real transpose. */
const data = imageFolder(tempDir(), { classes: 3, perClass: 12, size: 12, rgb: true });
const RGB = ['--data', data, '--filters', '3,4', '--reference-size', '6', '--batch-size', '6'];
/** MNIST 3-vs-5 at 28x28x1, filters 2,4, stride 2: one channel, the demo's kind of network. */
const MNIST = ['--data', 'mnist', '--limit', '64', '--filters', '2,4', '--strides', '2'];
const SMALL = ['--reference-size', '8', '--batch-size', '16'];

interface RunSpec {
  flags: string[];
  /** Which images it takes: 12x12x3 (3 classes) or 28x28x1 (2 classes). */
  input: 'rgb' | 'mnist';
}
/** Each strategy with each mode; 'same' padding and stride 2 in some. */
const RUNS: Record<string, RunSpec> = {
  concatVirtual: { input: 'rgb', flags: [...RGB, '--strategy', 'concat', '--mode', 'virtual'] },
  twoPassVirtual: {
    input: 'rgb',
    flags: [...RGB, '--strategy', 'two-pass', '--padding', 'same', '--strides', '2'],
  },
  concatReference: {
    input: 'rgb',
    flags: [...RGB, '--strategy', 'concat', '--mode', 'reference', '--padding', 'same'],
  },
  twoPassReference: {
    input: 'rgb',
    flags: [...RGB, '--strategy', 'two-pass', '--mode', 'reference', '--strides', '2'],
  },
  mnistConcatVirtual: { input: 'mnist', flags: [...MNIST, ...SMALL, '--strategy', 'concat'] },
};
type Run = keyof typeof RUNS;
const NAMES = Object.keys(RUNS) as Run[];
const B = 9;
const SHAPES = { rgb: [12, 12, 3], mnist: [28, 28, 1] } as const;
const CLASSES = { rgb: 3, mnist: 2 } as const;

const dir = tempDir('vbn-export-');
const images = { rgb: join(dir, 'rgb.npy'), mnist: join(dir, 'mnist.npy') };
const imagesFirst = join(dir, 'rgb-nchw.npy');
const pixels = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 999);
/** [B, H, W, C] -> [B, C, H, W]. */
const toFirst = (x: Float32Array) =>
  tf.tidy(
    () => tf.transpose(tf.tensor4d(x, [B, 12, 12, 3]), [0, 3, 1, 2]).dataSync() as Float32Array,
  );

/** vbn predict's probabilities of a run's images (its best checkpoint, as export's). */
async function predicted(run: string, input: string): Promise<number[][]> {
  const r = await vbn(['predict', '--checkpoint', run, input, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const rows = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    probabilities: Record<string, number>;
  }[];
  return rows.map((row) => Object.values(row.probabilities));
}

const runDir = (name: Run) => join(dir, name);
const model = (name: string) => join(dir, `${name}.onnx`);
const onnxOut = (name: string) => join(dir, `${name}-out.npy`);

describe.skipIf(!pythonSuiteEnabled())('vbn export: classifiers in onnxruntime', () => {
  let reports: Record<string, OnnxModelReport>;
  const probabilities = {} as Record<Run, number[][]>;

  beforeAll(async () => {
    writeNpy(images.rgb, pixels(B * 12 * 12 * 3), [B, 12, 12, 3], 'f4');
    writeNpy(images.mnist, pixels(B * 28 * 28), [B, 28, 28, 1], 'f4');
    writeNpy(imagesFirst, toFirst(pixels(B * 12 * 12 * 3)), [B, 3, 12, 12], 'f4');
    // Two at a time: the machine has 2 cores.
    for (let k = 0; k < NAMES.length; k += 2) {
      await Promise.all(
        NAMES.slice(k, k + 2).map(async (name) => {
          const { flags, input } = RUNS[name];
          const out = ['--epochs', '2', '--quiet', '--no-plots', '--out', runDir(name)];
          const r = await vbn(['train', ...flags, ...out]);
          expect(r.code, r.stderr).toBe(0);
          const e = await vbn(['export', '--checkpoint', runDir(name), '--out', model(name)]);
          expect(e.code, e.stderr).toBe(0);
          probabilities[name] = await predicted(runDir(name), images[input]);
        }),
      );
    }
    // Channels-first: the concat/virtual run's weights in a channelsFirst network, through the
    // library function; the reference transposed to [N, C, H, W].
    const m = loadModel(runDir('concatVirtual'), 'best');
    const [h, w, c] = m.net.config.inputShape;
    const first = createVbnNet({
      ...m.net.config,
      inputShape: [c, h, w],
      dataFormat: 'channelsFirst',
    });
    const reference = tf.transpose(m.reference, [0, 3, 1, 2]);
    writeFileSync(model('channelsFirst'), classifierToOnnx(first, m.params, reference));
    tf.dispose([reference, m.reference, ...Object.values(m.params)]);
    reports = await runOnnx(dir, [
      ...NAMES.map((name) => ({
        model: model(name),
        input: images[RUNS[name].input],
        output: onnxOut(name),
        independence: true,
      })),
      {
        model: model('channelsFirst'),
        input: imagesFirst,
        output: onnxOut('channelsFirst'),
        independence: true,
      },
    ]);
  });

  it.each(NAMES)(
    '%s: onnx.checker passes; opset >= 17; images [batch,H,W,C] -> logits [batch,classes]',
    (name) => {
      const r = reports[model(name)];
      const input = RUNS[name].input;
      expect(r.opset).toBeGreaterThanOrEqual(17);
      expect(r.inputs).toEqual([['images', ['batch', ...SHAPES[input]]]]);
      expect(r.outputs).toEqual([['logits', ['batch', CLASSES[input]]]]);
    },
  );

  it.each(NAMES)('%s: onnxruntime probabilities = vbn predict within 1e-5', (name) => {
    const k = CLASSES[RUNS[name].input];
    const logits = readFloats(onnxOut(name));
    expect(logits.shape).toEqual([B, k]);
    const got = softmaxRows(logits.values, k);
    const diff = maxAbsDiff(got.flat(), probabilities[name].flat());
    console.log(`${name}: max |onnxruntime - vbn predict| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('the RGB runs give different probabilities: a comparison that cannot tell them apart would prove nothing', () => {
    const rgb = NAMES.filter((n) => RUNS[n].input === 'rgb');
    for (const a of rgb) {
      for (const b of rgb) {
        if (a < b)
          expect(maxAbsDiff(probabilities[a].flat(), probabilities[b].flat())).toBeGreaterThan(
            1e-4,
          );
      }
    }
  });

  it.each([...NAMES, 'channelsFirst'])(
    '%s: batch independence in onnxruntime: a row alone = the row in any batch, bit for bit',
    (name) => {
      expect(reports[model(name)].independence).toBe(0);
    },
  );

  it('channels-first: input images [batch,3,12,12]; probabilities = vbn predict of the same images channels-last within 1e-5', () => {
    const r = reports[model('channelsFirst')];
    expect(r.inputs).toEqual([['images', ['batch', 3, 12, 12]]]);
    const got = softmaxRows(readFloats(onnxOut('channelsFirst')).values, 3);
    const diff = maxAbsDiff(got.flat(), probabilities.concatVirtual.flat());
    console.log(`channelsFirst: max |onnxruntime - vbn predict| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('exportOnnx (the library function) leaves no tensor behind and reports what it wrote', async () => {
    const before = tf.memory().numTensors;
    const s = exportOnnx({ checkpoint: runDir('concatVirtual'), out: join(dir, 'library.onnx') });
    expect(tf.memory().numTensors).toBe(before);
    expect(s).toMatchObject({
      kind: 'classifier',
      input: { name: 'images', shape: ['batch', 12, 12, 3] },
      output: { name: 'logits', shape: ['batch', 3] },
    });
    expect(s.bytes).toBeGreaterThan(0);
  });
});
