import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadData, useBackend } from 'vbn';
import { readNpy } from '../../src/data/node/npy.js';
import { realBatch, trainGan } from '../../src/gan/node/train-gan.js';
import { tempDir } from '../support/fixtures.js';
import { vbn } from '../support/run-cli.js';

/** A tiny GAN: 64 MNIST images, batch 16 (4 steps per epoch), small networks. */
const SMALL = {
  generatorFilters: [4, 2],
  discriminatorFilters: [2, 4],
  batchSize: 16,
  referenceSize: 8,
  epochs: 2,
  evalSamples: 64,
  seed: 3,
};
const SMALL_FLAGS = [
  '--limit',
  '64',
  '--filters',
  '4,2',
  '--d-filters',
  '2,4',
  '--batch-size',
  '16',
];
const dataOptions = { data: 'mnist', classes: 'all', limit: 64, seed: 0 };

const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .map(({ seconds: _s, ...rest }) => rest);
/** Every path under dir with its size and modification time. */
const snapshot = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[])
    .sort()
    .map((f) => [f, statSync(join(dir, f)).size, statSync(join(dir, f)).mtimeMs]);
const lastWeights = (dir: string) => readFileSync(join(dir, 'last', 'weights.bin'));

async function runGan(outDir: string, stopAfter: number | null, resume?: string) {
  let steps = 0;
  return trainGan(loadData(dataOptions), {
    config: { ...SMALL, checkpointEvery: 3 },
    dataOptions,
    outDir,
    resumeFrom: resume,
    hooks: {
      onStep: () => void steps++,
      shouldStop: () => stopAfter !== null && steps >= stopAfter,
    },
  });
}

describe('vbn gan: the real labels', () => {
  it('realBatch gives each image its own label, the images scaled to [-1, 1]', () => {
    const data = loadData(dataOptions);
    const px = 28 * 28;
    const order = Array.from({ length: 64 }, (_, i) => (i * 37 + 5) % 64);
    const { images, labels } = realBatch(data, order, 1, 16);
    const [x, y] = [images.dataSync(), labels.dataSync()];
    expect(labels.dtype).toBe('int32');
    for (let r = 0; r < 16; r++) {
      const j = order[16 + r];
      expect(y[r]).toBe(data.train.labels[j]);
      for (const p of [0, 300, 407, px - 1]) {
        expect(x[r * px + p]).toBeCloseTo(2 * data.train.images[j * px + p] - 1, 6);
      }
    }
    tf.dispose([images, labels]);
  });

  it('reach the discriminator: the same run with labelWeight 0 and 1 ends with other weights', async () => {
    const weightsAfter = async (labelWeight: number) => {
      const dir = tempDir();
      await trainGan(loadData(dataOptions), {
        config: { ...SMALL, epochs: 1, labelWeight },
        dataOptions,
        outDir: dir,
      });
      return lastWeights(dir);
    };
    const [without, withLabels, again] = [
      await weightsAfter(0),
      await weightsAfter(1),
      await weightsAfter(0),
    ];
    expect(again.equals(without)).toBe(true);
    expect(withLabels.equals(without)).toBe(false);
  });
});

describe('vbn gan: resume', () => {
  beforeAll(async () => void (await useBackend('auto')));
  afterAll(async () => void (await useBackend('cpu')));
  for (const stopAfter of [2, 6]) {
    it(`a run stopped after step ${stopAfter} and resumed ends exactly like an uninterrupted one`, async () => {
      const whole = join(tempDir(), 'whole');
      const a = await runGan(whole, null);
      expect(a.steps).toBe(8);
      const split = join(tempDir(), 'split');
      const b1 = await runGan(split, stopAfter);
      expect(b1.interrupted).toBe(true);
      expect(b1.steps).toBe(stopAfter);
      const b2 = await runGan(split, null, join(split, 'last'));
      expect(b2.steps).toBe(8);
      expect(metrics(split)).toEqual(metrics(whole));
      expect(lastWeights(split).equals(lastWeights(whole))).toBe(true);
      expect(
        readFileSync(join(split, 'samples.png')).equals(readFileSync(join(whole, 'samples.png'))),
      ).toBe(true);
    }, 600_000);
  }
});

describe('vbn gan / gan-eval / gan-sample on the command line', () => {
  const out = join(tempDir(), 'run');
  it('trains and writes the run folder', async () => {
    const r = await vbn([
      'gan',
      ...SMALL_FLAGS,
      '--epochs',
      '1',
      '--eval-samples',
      '64',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(out);
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'samples.png',
      'samples-epoch-1.png',
      'curves.png',
      'curves.svg',
      'last',
    ]) {
      expect(files).toContain(f);
    }
    const grid = PNG.sync.read(readFileSync(join(out, 'samples.png')));
    expect([grid.width, grid.height]).toEqual([302, 302]); // 10 x (28 + 2) + 2
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.steps).toBe(4);
  });
  it('gan-eval prints the metrics as one JSON line', async () => {
    const r = await vbn(['gan-eval', '--checkpoint', out, '--samples', '100', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const m = JSON.parse(r.stdout);
    for (const k of [
      'classifierScore',
      'realClassifierScore',
      'frechetDistance',
      'realFrechetDistance',
      'classHistogram',
      'classesCovered',
      'batchIndependence',
      'samples',
    ]) {
      expect(m).toHaveProperty(k);
    }
    expect(m.samples).toBe(100);
    expect(m.classHistogram.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 9);
    // The classifier recognizes real digits: real images score far above 1.
    expect(m.realClassifierScore).toBeGreaterThan(8);
    expect(m.batchIndependence).toBeLessThanOrEqual(1e-6);
  });
  it('gan-sample writes [N, 28, 28, 1] float32 in [0, 1] as .npy, or a PNG grid', async () => {
    const npy = join(tempDir(), 's.npy');
    expect(
      (await vbn(['gan-sample', '--checkpoint', out, '--count', '7', '--out', npy])).code,
    ).toBe(0);
    const a = readNpy(npy);
    expect(a.shape).toEqual([7, 28, 28, 1]);
    expect(a.dtype).toBe('f4');
    const v = a.data as Float32Array;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const png = join(tempDir(), 's.png');
    expect(
      (await vbn(['gan-sample', '--checkpoint', out, '--count', '12', '--out', png])).code,
    ).toBe(0);
    expect(PNG.sync.read(readFileSync(png)).height).toBe(2 * 30 + 2);
  });
  it('--resume refuses a changed setting in one line and writes nothing', async () => {
    const before = snapshot(out);
    const changes: [string[], RegExp][] = [
      [['--norm', 'bn'], /--norm bn would change the run, which has --norm vbn/],
      [['--filters', '8,4'], /--filters 8,4 would change the run, which has --filters 4,2/],
      [['--lr', '0.01'], /--lr 0\.01 would change the run, which has --lr 0\.001/],
      [['--d-lr', '0.01'], /--d-lr 0\.01 would change the run, which has --d-lr 0\.0005/],
      [['--lr-decay', '0'], /--lr-decay 0 would change the run, which has --lr-decay 0\.5/],
      [['--codes', '0'], /--codes 0 would change the run, which has --codes 10/],
      [
        ['--label-weight', '0'],
        /--label-weight 0 would change the run, which has --label-weight 1/,
      ],
      [
        ['--output-stride', '2'],
        /--output-stride 2 would change the run, which has --output-stride 1/,
      ],
      [['--classes', '3,5'], /--classes 3,5 would change the run, which has --classes all/],
      [['--limit', '128'], /--limit 128 would change the run, which has --limit 64/],
      [['--epochs', '0'], /--epochs/],
    ];
    for (const [flags, message] of changes) {
      const r = await vbn(['gan', '--resume', out, ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(snapshot(out)).toEqual(before);
  });
  it('--resume --epochs N trains on to N epochs in total; the same settings are accepted', async () => {
    const r = await vbn(['gan', '--resume', out, ...SMALL_FLAGS, '--epochs', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).steps).toBe(8);
    expect(metrics(out).map((m) => m.epoch)).toEqual([1, 2]);
    // --lr-decay 0.5 (the default): rates x min(1, (T - k) / (0.5 T)) at the epochs' last steps
    // k = 3 (T = 4 steps when epoch 1 ran) and k = 7 (T = 8): x 0.5 and x 0.25.
    expect(metrics(out).map((m) => [m.lr, m.dLr])).toEqual([
      [1e-3 * 0.5, 5e-4 * 0.5],
      [1e-3 * 0.25, 5e-4 * 0.25],
    ]);
    const again = await vbn(['gan', '--resume', out, '--epochs', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--epochs 1: the run in .* has already completed 2 epochs/);
  });
});

describe('bad input: one line, exit 2, nothing written', () => {
  const cases: [string, string[], RegExp][] = [
    [
      '--data',
      ['gan', '--data', 'x.npy,y.npy'],
      /^vbn: --data x\.npy,y\.npy: vbn gan trains on 'mnist' only/,
    ],
    [
      '--norm',
      ['gan', '--norm', 'layer'],
      /option '--norm <norm>' argument 'layer' is invalid\. expected one of vbn, bn, none\./,
    ],
    [
      '--beta1',
      ['gan', '--beta1', '1'],
      /argument '1' is invalid\. expected a number in \[0, 1\)\./,
    ],
    [
      '--filters',
      ['gan', '--filters', '8,8,8,8'],
      /^vbn: createGenerator: outputShape \[28,28,1\] needs H and W divisible by 2\^3 = 8/,
    ],
    [
      '--codes',
      ['gan', '--latent-dim', '8'],
      /^vbn: vbn gan: codes 10 \(--codes, default 10\) must be below latentDim 8 \(--latent-dim\): z needs a normal part\n$/,
    ],
    [
      '--output-stride',
      ['gan', '--output-stride', '3'],
      /argument '3' is invalid\. expected 1 or 2\./,
    ],
    ['--reference-size', ['gan', '--reference-size', '0'], /expected an integer >= 1\./],
    ['--label-weight', ['gan', '--label-weight', '-1'], /expected a number >= 0\./],
    [
      '--label-weight with --classes',
      ['gan', '--classes', '3,5'],
      /^vbn: vbn gan: --label-weight 1 ties code k to class k, so --codes \(default 10\) must be the data's 2 classes \(3,5\) but is 10; pass --codes 2, or --label-weight 0 for an unsupervised code\n$/,
    ],
    [
      '--lr-decay',
      ['gan', '--lr-decay', '1.5'],
      /argument '1\.5' is invalid\. expected a number from 0 to 1\./,
    ],
    [
      '--resume',
      ['gan', '--resume', '/no/such/dir'],
      /^vbn: --checkpoint \/no\/such\/dir: no such folder/,
    ],
    [
      'gan-eval --samples',
      ['gan-eval', '--checkpoint', '.', '--samples', '20000'],
      /^vbn: --samples 20000: at most 10000/,
    ],
    [
      'gan-sample --out',
      ['gan-sample', '--checkpoint', '.', '--count', '2', '--out', 'x.txt'],
      /^vbn: --out x\.txt: expected a file name ending in \.npy or \.png/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const dir = tempDir();
      const out = join(dir, 'out');
      const r = await vbn([...args, ...(args[0] === 'gan' ? ['--out', out] : [])]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
      expect(existsSync(out)).toBe(false);
    });
  }
});
