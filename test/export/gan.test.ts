import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { latents } from '../../src/gan/evaluate.js';
import { exportOnnx } from '../../src/node.js';
import { tempDir, writeNpy } from '../support/fixtures.js';
import {
  maxAbsDiff,
  pythonSuiteEnabled,
  readFloats,
  runOnnx,
  type OnnxModelReport,
} from '../support/onnx.js';
import { vbn } from '../support/run-cli.js';

/** A tiny GAN: 64 MNIST images, batch 16 (4 steps), small networks. */
const TINY = [
  ...['--limit', '64', '--filters', '4,2', '--d-filters', '2,4', '--batch-size', '16'],
  ...['--reference-size', '8', '--epochs', '1', '--eval-samples', '16', '--quiet', '--no-plots'],
];
/**
 * Each norm; vbn in both modes. Kernels 4 (the default), 5 and 3 with output strides 1 and 2:
 * the transposed convolutions' 'same' padding is symmetric for some and not for others.
 */
const RUNS: Record<string, string[]> = {
  vbn: ['--norm', 'vbn'],
  vbnReference: ['--norm', 'vbn', '--mode', 'reference', '--kernel-size', '5'],
  bn: ['--norm', 'bn'],
  none: ['--norm', 'none', '--kernel-size', '3', '--output-stride', '2'],
};
const NAMES = Object.keys(RUNS);
/** Latents as vbn gan draws them (54 normal entries, a one-hot code of 10): [Z, 64]. */
const Z = 11;

const dir = tempDir('vbn-export-gan-');
const zFile = join(dir, 'z.npy');
const runDir = (name: string) => join(dir, name);
const model = (name: string) => join(dir, `${name}.onnx`);
const sampled = (name: string) => join(dir, `${name}-vbn.npy`);
const onnxOut = (name: string) => join(dir, `${name}-onnx.npy`);

beforeAll(async () => {
  const z = latents(5, 1, Z, 64, 10);
  writeNpy(zFile, z.dataSync(), [Z, 64], 'f4');
  z.dispose();
  for (let k = 0; k < NAMES.length; k += 2) {
    await Promise.all(
      NAMES.slice(k, k + 2).map(async (name) => {
        const r = await vbn(['gan', ...TINY, ...RUNS[name], '--out', runDir(name)]);
        expect(r.code, r.stderr).toBe(0);
        const e = await vbn(['export', '--checkpoint', runDir(name), '--out', model(name)]);
        expect(e.code, e.stderr).toBe(0);
        const s = await vbn([
          'gan-sample',
          '--checkpoint',
          runDir(name),
          '--z',
          zFile,
          '--out',
          sampled(name),
        ]);
        expect(s.code, s.stderr).toBe(0);
      }),
    );
  }
});

describe('vbn gan-sample --z', () => {
  it('gives the images of exactly those latents, each depending on its own z under vbn', async () => {
    const one = join(dir, 'z-first.npy');
    writeNpy(one, readFloats(zFile).values.subarray(0, 64), [1, 64], 'f4');
    const r = await vbn([
      'gan-sample',
      '--checkpoint',
      runDir('vbn'),
      '--z',
      one,
      '--out',
      join(dir, 'one.npy'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const alone = readFloats(join(dir, 'one.npy'));
    expect(alone.shape).toEqual([1, 28, 28, 1]);
    expect(Array.from(alone.values)).toEqual(
      Array.from(readFloats(sampled('vbn')).values.subarray(0, 784)),
    );
  });

  it.each([
    [['--count', '3'], /give either --count N or --z FILE.npy/],
    [['--seed', '3'], /--seed draws latents; --z gives them/],
  ])('refuses --z with %s: one line, exit 2, nothing written', async (extra, message) => {
    const out = join(dir, 'refused.npy');
    const r = await vbn([
      'gan-sample',
      '--checkpoint',
      runDir('vbn'),
      '--z',
      zFile,
      '--out',
      out,
      ...extra,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['a float64 array', 'f8', [3, 64], /latents must be float32 but the dtype is f8/],
    [
      'the wrong latent size',
      'f4',
      [3, 32],
      /latents must have shape \[N,64\] .* have shape \[3,32\]/,
    ],
    ['images', 'f4', [2, 28, 28], /latents must have shape \[N,64\]/],
  ] as const)(
    'refuses %s: one line naming the file, exit 2',
    async (_what, dtype, shape, message) => {
      const bad = join(dir, `bad-${dtype}-${shape.join('x')}.npy`);
      writeNpy(
        bad,
        new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(0.5),
        [...shape],
        dtype,
      );
      const r = await vbn([
        'gan-sample',
        '--checkpoint',
        runDir('vbn'),
        '--z',
        bad,
        '--out',
        join(dir, 'refused.npy'),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(bad);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
  );
});

describe.skipIf(!pythonSuiteEnabled())('vbn export: GAN generators in onnxruntime', () => {
  let reports: Record<string, OnnxModelReport>;
  beforeAll(async () => {
    reports = await runOnnx(
      dir,
      NAMES.map((name) => ({
        model: model(name),
        input: zFile,
        output: onnxOut(name),
        independence: true,
      })),
    );
  });

  it.each(NAMES)(
    '%s: onnx.checker passes; opset >= 17; z [batch,64] -> images [batch,28,28,1]',
    (name) => {
      const r = reports[model(name)];
      expect(r.opset).toBeGreaterThanOrEqual(17);
      expect(r.inputs).toEqual([['z', ['batch', 64]]]);
      expect(r.outputs).toEqual([['images', ['batch', 28, 28, 1]]]);
    },
  );

  it.each(NAMES)('%s: onnxruntime images = vbn gan-sample --z within 1e-5, in [0, 1]', (name) => {
    const got = readFloats(onnxOut(name));
    const want = readFloats(sampled(name));
    expect(got.shape).toEqual([Z, 28, 28, 1]);
    const diff = maxAbsDiff(got.values, want.values);
    console.log(`${name}: max |onnxruntime - vbn gan-sample --z| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    expect(got.values.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('the generators differ: a comparison that cannot tell them apart would prove nothing', () => {
    for (const a of NAMES) {
      for (const b of NAMES) {
        if (a < b)
          expect(
            maxAbsDiff(readFloats(sampled(a)).values, readFloats(sampled(b)).values),
          ).toBeGreaterThan(1e-3);
      }
    }
  });

  it.each(['vbn', 'vbnReference', 'none'])(
    '%s: batch independence in onnxruntime: an image alone = the image in any batch, bit for bit',
    (name) => {
      expect(reports[model(name)].independence).toBe(0);
    },
  );

  it('bn: exported as it ran in training, with the batch statistics: an image changes with its batch', () => {
    expect(reports[model('bn')].independence).toBeGreaterThan(1e-3);
  });

  it('exportOnnx of a GAN checkpoint leaves no tensor behind and no temporary file', () => {
    const before = tf.memory().numTensors;
    const out = join(dir, 'library', 'g.onnx');
    expect(() => exportOnnx({ checkpoint: runDir('vbn'), out })).toThrow(
      /the folder .* does not exist/,
    );
    const s = exportOnnx({ checkpoint: runDir('vbn'), out: join(dir, 'library.onnx') });
    expect(tf.memory().numTensors).toBe(before);
    expect(s).toMatchObject({
      kind: 'generator',
      output: { name: 'images', shape: ['batch', 28, 28, 1] },
    });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
