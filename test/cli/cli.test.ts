import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { vbn, type CliResult } from '../support/run-cli.js';
import { imageFolder, tempDir, writeNpy, writePng } from '../support/fixtures.js';

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    // Timing fields differ between runs; everything else must not.
    .map(({ examplesPerSecond: _a, seconds: _b, ...rest }) => rest);

/** A small learnable data set: 2 classes of 8x8 grey PNGs. */
const data = imageFolder(tempDir(), { classes: 2, perClass: 24, size: 8 });
const SMALL = [
  '--data',
  data,
  '--filters',
  '4,4',
  '--reference-size',
  '8',
  '--batch-size',
  '8',
  '--backend',
  'wasm',
];

describe('vbn train / eval / predict', () => {
  it('trains, writes the run folder, prints a JSON summary, and eval reproduces the accuracy', async () => {
    const out = join(tempDir(), 'run');
    const r = await vbn([
      'train',
      ...SMALL,
      '--epochs',
      '3',
      '--lr',
      '0.01',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = lastJson(r.stdout);
    for (const k of [
      'valAccuracy',
      'valLoss',
      'trainLoss',
      'trainAccuracy',
      'epochs',
      'steps',
      'seconds',
    ]) {
      expect(s).toHaveProperty(k);
    }
    expect(s.epochs).toBe(3);
    expect(s.steps).toBe(3 * Math.ceil(38 / 8));
    expect(s.valAccuracy).toBeGreaterThan(0.8);
    const files = readdirSync(out);
    for (const f of ['config.json', 'metrics.jsonl', 'curves.png', 'curves.svg', 'last', 'best'])
      expect(files).toContain(f);
    expect(metrics(out)).toHaveLength(3);
    expect(readlinkSync(join(out, 'last'))).toMatch(/^ckpt-0+15$/);
    const png = PNG.sync.read(readFileSync(join(out, 'curves.png')));
    expect(png.width).toBe(820);
    expect(png.height).toBeGreaterThan(200);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg/);
    for (const strategy of ['concat', 'two-pass']) {
      const e = await vbn([
        'eval',
        '--checkpoint',
        out,
        '--strategy',
        strategy,
        '--backend',
        'wasm',
        '--json',
      ]);
      expect(e.code).toBe(0);
      expect(lastJson(e.stdout).valAccuracy).toBeCloseTo(s.valAccuracy, 10);
    }
  });

  it('same seed, backend and strategy give identical metrics; the two strategies the same curves', async () => {
    const runs: ReturnType<typeof metrics>[] = [];
    for (const strategy of ['concat', 'concat', 'two-pass']) {
      const out = join(tempDir(), 'run');
      const r = await vbn([
        'train',
        ...SMALL,
        '--epochs',
        '2',
        '--seed',
        '4',
        '--strategy',
        strategy,
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.code).toBe(0);
      runs.push(metrics(out));
    }
    expect(runs[1]).toEqual(runs[0]);
    runs[2].forEach((m, i) => {
      for (const k of ['trainLoss', 'valLoss'])
        expect(Math.abs(m[k] - runs[0][i][k]) / runs[0][i][k]).toBeLessThan(1e-4);
      expect(m.valAccuracy).toBeCloseTo(runs[0][i].valAccuracy, 6);
    });
  });

  it('predict: one class per image, and a prediction does not depend on the other images', async () => {
    const out = join(tempDir(), 'run');
    expect(
      (await vbn(['train', ...SMALL, '--epochs', '2', '--lr', '0.01', '--out', out, '--quiet']))
        .code,
    ).toBe(0);
    const a = join(data, 'class_0', 'img_0.png');
    const b = join(data, 'class_1', 'img_0.png');
    const c = join(data, 'class_1', 'img_5.png');
    const alone = lastJson(
      (await vbn(['predict', '--checkpoint', out, a, '--json', '--backend', 'wasm'])).stdout,
    );
    const together = lastJson(
      (await vbn(['predict', '--checkpoint', out, b, a, c, '--json', '--backend', 'wasm'])).stdout,
    );
    expect(together[1]).toEqual(alone[0]);
    expect(together.map((p: { class: string }) => p.class)).toEqual([
      'class_1',
      'class_0',
      'class_1',
    ]);
    const text = await vbn(['predict', '--checkpoint', out, a, '--backend', 'wasm']);
    expect(text.stdout).toMatch(/img_0.png: class_0 \(class_0: 0\.\d+, class_1: 0\.\d+\)/);
  });
});

describe('what the user asked for', () => {
  it("--version prints the package version; --help shows each flag's default", async () => {
    const pkg = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'),
    );
    const v = await vbn(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = (await vbn(['train', '--help'])).stdout.replace(/\s+/g, ' ').split(/ (?=--[a-z])/);
    for (const [flag, value] of [
      ['--filters <list>', '16,32,64'],
      ['--batch-size <n>', '32'],
      ['--reference-size <n>', '32'],
      ['--epochs <n>', '1'],
      ['--optimizer <name>', 'adam'],
      ['--mode <mode>', 'virtual'],
      ['--classes <list>', '3,5'],
      ['--backend <name>', '"auto"'],
    ]) {
      const entry = h.find((e) => e.startsWith(flag));
      expect(entry, flag).toContain(`(default: ${value})`);
    }
  });

  it('--quiet prints nothing on a successful run; without it, one line per epoch', async () => {
    const quiet = await vbn([
      'train',
      ...SMALL,
      '--epochs',
      '2',
      '--out',
      join(tempDir(), 'q'),
      '--quiet',
    ]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toBe('');
    const loud = await vbn(['train', ...SMALL, '--epochs', '2', '--out', join(tempDir(), 'l')]);
    expect(loud.code).toBe(0);
    expect(loud.stdout).toMatch(/epoch 1\/2 .*\n.*epoch 2\/2 /s);
  });

  describe('--resume refuses what would change the run', () => {
    const out = join(tempDir(), 'run');
    let ok: CliResult;
    beforeAll(async () => {
      ok = await vbn(['train', ...SMALL, '--epochs', '2', '--out', out, '--quiet']);
    });
    const other = imageFolder(tempDir(), { classes: 2, perClass: 4, size: 8 });
    const cases: [string[], RegExp][] = [
      [['--filters', '4,4,4'], /--filters 4,4,4 would change the run, which has --filters 4,4/],
      [['--lr', '0.5'], /--lr 0.5 would change the run, which has --lr 0.001/],
      [['--optimizer', 'sgd'], /--optimizer sgd would change the run/],
      [['--strategy', 'two-pass'], /--strategy two-pass would change the run/],
      [['--batch-size', '4'], /--batch-size 4 would change the run/],
      [['--data', other], /--data .* would change the run/],
      [['--out', join(tempDir(), 'x')], /--out .* would change the run/],
      [['--epochs', '1'], /--epochs 1: the run in .* has already completed 2 epochs/],
    ];
    for (const [args, pattern] of cases) {
      it(args.join(' '), async () => {
        expect(ok.code).toBe(0);
        const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
        const last = readlinkSync(join(out, 'last'));
        const r = await vbn(['train', '--resume', out, '--backend', 'wasm', ...args]);
        expect(r.code).toBe(2);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(pattern);
        expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(before);
        expect(readlinkSync(join(out, 'last'))).toBe(last);
      });
    }
    it('the same values as the run, and flags that do not change it, are accepted', async () => {
      const r = await vbn([
        'train',
        '--resume',
        out,
        '--filters',
        '4,4',
        '--batch-size',
        '8',
        '--backend',
        'wasm',
        '--quiet',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/has completed its 2 epochs; nothing to train/);
    });
  });
});

describe('bad input: one line, exit 2, no stack trace, nothing written', () => {
  const dir = tempDir();
  const x = join(dir, 'x.npy');
  const y = join(dir, 'y.npy');
  writeNpy(x, new Float32Array(6 * 16), [6, 4, 4], 'f4');
  writeNpy(y, Int32Array.from([0, 1, 2, 0, 1, 5]), [6], 'i4');
  const bad = join(dir, 'bad.npy');
  writeNpy(bad, new Float64Array(6 * 16), [6, 4, 4], 'f8');
  const emptyClass = tempDir();
  imageFolder(emptyClass, { perClass: 2, size: 4 });
  const mixed = imageFolder(tempDir(), { perClass: 3, size: 4 });
  writePng(join(mixed, 'class_0', 'big.png'), 5, 5, () => 0);
  const cases: [string, string[], RegExp][] = [
    [
      'missing data path',
      ['--data', '/no/such/dir'],
      /^vbn: --data \/no\/such\/dir: no such file or directory/,
    ],
    ['not a checkpoint', ['--resume', dir], /^vbn: --checkpoint .*: not a vbn checkpoint/],
    [
      'batch size 0',
      ['--batch-size', '0'],
      /--batch-size <n>' argument '0' is invalid. expected an integer >= 1/,
    ],
    ['negative batch size', ['--batch-size', '-3'], /argument '-3' is invalid/],
    ['non-numeric flag', ['--epochs', 'two'], /--epochs <n>' argument 'two' is invalid/],
    [
      'unknown optimizer',
      ['--optimizer', 'adagrad'],
      /expected one of sgd, momentum, adam, rmsprop/,
    ],
    [
      'reference larger than the training set',
      ['--data', `${x},${y}`, '--filters', '2', '--reference-size', '40'],
      /^vbn: --reference-size 40 is larger than the training set \(5 examples\)/,
    ],
    [
      'wrong dtype',
      ['--data', `${bad},${y}`],
      /^vbn: .*bad.npy: images must be float32 or uint8 but the dtype is f8/,
    ],
    ['mixed sizes', ['--data', mixed], /^vbn: --data .*: images of mixed sizes/],
    [
      'reference file of the wrong shape',
      ['--data', `${x},${y}`, '--filters', '2', '--reference-size', '2', '--reference', x],
      /^vbn: .*x.npy: the reference must have shape \[2,4,4,1\]/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const out = join(tempDir(), 'out');
      const r = await vbn(['train', '--out', out, '--backend', 'cpu', ...args]);
      expect(r.code).toBe(2);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('(run with --help'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    });
  }
  it('eval and predict: not a checkpoint, missing image', async () => {
    const e = await vbn(['eval', '--checkpoint', dir]);
    expect(e.code).toBe(2);
    expect(e.stderr.trim()).toMatch(/^vbn: --checkpoint .*: not a vbn checkpoint/);
    const p = await vbn(['predict', '--checkpoint', '/no/where', 'a.png']);
    expect(p.code).toBe(2);
    expect(p.stderr.trim()).toBe('vbn: --checkpoint /no/where: no such folder');
  });
  it('--debug shows the stack trace', async () => {
    const r = await vbn(['train', '--data', '/no/such/dir', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
