import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_OPTIONS } from '../../src/cli/bench-options.js';
import { addOptions } from '../../src/cli/flags.js';
import { GAN_OPTIONS } from '../../src/gan/config.js';
import { refuseUnfit } from '../../src/options/memory.js';
import { givenValues, resolveOptions, toArgs } from '../../src/options/schema.js';
import { TRAIN_OPTIONS } from '../../src/train/config.js';
import { classifierNeed } from '../../src/train/memory.js';
import { tempDir } from '../support/fixtures.js';
import { errorMessage } from '../support/helpers.js';
import { vbn } from '../support/run-cli.js';

/** The option schemas as commands use them: flags, child arguments, refusals of what cannot fit. */

const parse = (schema: Parameters<typeof addOptions>[1], args: string[]) =>
  addOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }), schema)
    .parse(args, { from: 'user' })
    .opts();

describe('flags from a schema', () => {
  it("bench's child arguments read back as the same configuration", () => {
    const cfg = resolveOptions(
      BENCH_OPTIONS,
      { filters: [8, 4], padding: 'same', strategy: 'two-pass', imageSize: 40, profile: true },
      'test',
    );
    const args = toArgs(BENCH_OPTIONS, cfg);
    expect(args).toContain('--profile');
    const back = resolveOptions(
      BENCH_OPTIONS,
      givenValues(BENCH_OPTIONS, parse(BENCH_OPTIONS, args)),
      'test',
    );
    expect(back).toEqual(cfg);
  });
  it('a flag is read under its option, whatever its name (--d-filters: discriminatorFilters)', () => {
    const given = givenValues(
      GAN_OPTIONS,
      parse(GAN_OPTIONS, ['--d-filters', '8,16', '--filters', '4']),
    );
    expect(given).toEqual({ discriminatorFilters: [8, 16], generatorFilters: [4] });
  });
  it('every option of the training schema parses what the resolver accepts', () => {
    const given = parse(TRAIN_OPTIONS, [
      '--filters',
      '3,5',
      '--kernel-size',
      '2',
      '--strides',
      '2',
      '--padding',
      'same',
      '--mode',
      'reference',
      '--epsilon',
      '0.01',
      '--stop-reference-gradient',
      '--strategy',
      'two-pass',
      '--batch-size',
      '4',
      '--reference-size',
      '6',
      '--seed',
      '9',
      '--epochs',
      '3',
      '--optimizer',
      'sgd',
      '--lr',
      '0.2',
      '--loss',
      'hinge',
      '--checkpoint-every',
      '7',
    ]);
    expect(resolveOptions(TRAIN_OPTIONS, givenValues(TRAIN_OPTIONS, given), 'test')).toEqual({
      filters: [3, 5],
      kernelSize: 2,
      strides: 2,
      padding: 'same',
      mode: 'reference',
      epsilon: 0.01,
      stopReferenceGradient: true,
      strategy: 'two-pass',
      batchSize: 4,
      referenceSize: 6,
      seed: 9,
      epochs: 3,
      optimizer: 'sgd',
      lr: 0.2,
      loss: 'hinge',
      checkpointEvery: 7,
    });
  });
  it.each([
    ['--filters', '16,x', 'expected a comma list of positive integers, like 16,32,64.'],
    ['--filters', '0', 'expected a comma list of positive integers, like 16,32,64.'],
    ['--kernel-size', '2.5', 'expected an integer >= 1.'],
    ['--padding', 'full', 'expected one of valid, same.'],
    ['--epsilon', '-1', 'expected a positive finite number.'],
    ['--seed', '-1', 'expected an integer >= 0.'],
  ])('refuses %s %s: %s', (flag, value, message) => {
    expect(() => parse(TRAIN_OPTIONS, [flag, value])).toThrow(message);
  });
});

describe('the memory a configuration needs', () => {
  it('classifierNeed: a network small enough to count by hand', () => {
    // 2 rows of 5x5x1; one 3x3 'valid' block of 2 filters -> 3x3x2; dense 2 -> 2.
    // values: input 50, activations 36 (x2: forward and gradient), weights 18 + 4 + 6 = 28 (x4).
    const need = classifierNeed(
      { filters: [2], kernelSize: 3, strides: 1, padding: 'valid', batchSize: 1, referenceSize: 1 },
      [5, 5, 1],
    );
    expect(need).toEqual({ bytes: 4 * (50 + 2 * 36 + 4 * 28), largest: 50 });
  });
  it('refuseUnfit blames the given option whose default shrinks the need most', () => {
    const config = resolveOptions(TRAIN_OPTIONS, { batchSize: 1000, seed: 3 }, 'test');
    const need = (v: typeof config) => classifierNeed(v, [28, 28, 1]);
    const limit = {
      bytes: need(resolveOptions(TRAIN_OPTIONS, {}, 'test')).bytes * 2,
      elements: 2 ** 32,
    };
    expect(
      errorMessage(() =>
        refuseUnfit('vbn train', TRAIN_OPTIONS, { batchSize: 1000, seed: 3 }, config, need, limit),
      ),
    ).toMatch(/^vbn train: --batch-size 1000 does not fit: a step needs at least .* GiB of memory/);
    expect(() =>
      refuseUnfit('t', TRAIN_OPTIONS, {}, resolveOptions(TRAIN_OPTIONS, {}, 't'), need, limit),
    ).not.toThrow();
  });
});

describe('commands refuse what they would ignore or cannot fit (exit 2, one line, nothing written)', () => {
  it.each([
    [['train', '--filters', '99999999999'], /^vbn: vbn train: --filters 99999999999 does not fit/],
    [
      ['train', '--image-size', '99999999999'],
      /^vbn: vbn train: --image-size 99999999999 does not fit/,
    ],
    [
      ['gan', '--batch-size', '99999999999'],
      /^vbn: vbn gan: --batch-size 99999999999 does not fit/,
    ],
    [['bench', '--epsilon', '1e-3'], /^error: unknown option '--epsilon'/],
    [['bench', '--stop-reference-gradient'], /^error: unknown option '--stop-reference-gradient'/],
    [['bench', '--seed', '1'], /^error: unknown option '--seed'/],
    [['check', '--strategy', 'two-pass'], /^error: unknown option '--strategy'/],
  ])('%j', async (args, message) => {
    const out = join(tempDir(), 'out');
    const r = await vbn([
      ...args,
      ...(args[0] === 'train' || args[0] === 'gan' ? ['--out', out] : []),
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^\((run with --help|Did you mean)/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
  it('bench and check show only the flags they honour', async () => {
    const flags = async (cmd: string) =>
      [...(await vbn([cmd, '--help'])).stdout.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(await flags('bench')).toEqual([
      '--filters',
      '--kernel-size',
      '--strides',
      '--padding',
      '--mode',
      '--strategy',
      '--batch-size',
      '--reference-size',
      '--image-size',
      '--steps',
      '--profile',
      '--backend',
      '--backends',
      '--timeout',
      '--threads',
      '--no-torch',
      '--demo',
      '--gan',
      '--rounds',
      '--child',
      '--json',
      '--debug',
    ]);
    // A step option that --gan or --demo fixes is refused, not ignored.
    for (const [args, flag] of [
      [['--gan', '--filters', '8'], '--filters'],
      [['--gan', '--profile'], '--profile'],
      [['--demo', '--image-size', '64'], '--image-size'],
    ] as const) {
      const r = await vbn(['bench', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${flag} does not apply with ${args[0]}`);
    }
    const check = await flags('check');
    expect(check).not.toContain('--strategy');
    expect(check).toEqual(
      expect.arrayContaining(['--epsilon', '--stop-reference-gradient', '--seed']),
    );
  });
});
