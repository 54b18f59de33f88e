import { describe, expect, it } from 'vitest';
import {
  GAN_DEFAULTS,
  GAN_OPTIONS,
  resolveDiscriminatorConfig,
  resolveGanTrainConfig,
  resolveGeneratorConfig,
  resumeGanConfig,
  type GanTrainConfig,
} from '../../src/gan/config.js';
import { errorMessage } from '../support/helpers.js';

/**
 * The GAN resolvers, called directly: their defaults (docs/gan.md's recipe, written out here)
 * and every refusal, one per option.
 */

const RECIPE: GanTrainConfig = {
  norm: 'vbn',
  mode: 'virtual',
  latentDim: 64,
  codes: 10,
  labelWeight: 1,
  generatorFilters: [64, 32, 16],
  discriminatorFilters: [32, 64, 128],
  kernelSize: 4,
  outputStride: 1,
  batchSize: 64,
  referenceSize: 64,
  epochs: 4,
  lr: 1e-3,
  dLr: 5e-4,
  lrDecay: 0.5,
  beta1: 0.5,
  seed: 0,
  evalSamples: 1000,
  checkpointEvery: 0,
};

describe('resolveGanTrainConfig', () => {
  it("fills docs/gan.md's recipe", () => {
    expect(resolveGanTrainConfig()).toEqual(RECIPE);
    expect(GAN_DEFAULTS).toMatchObject({ ...RECIPE, codes: 0, runCodes: 10, leak: 0.2 });
  });

  const refusals: [keyof GanTrainConfig, unknown, string][] = [
    ['norm', 'layer', `unknown --norm "layer" (expected one of 'vbn', 'bn', 'none')`],
    ['mode', 'batch', `unknown --mode "batch" (expected one of 'virtual', 'reference')`],
    ['latentDim', 0, '--latent-dim must be an integer >= 1 but is 0'],
    ['codes', -1, '--codes must be an integer >= 0 but is -1'],
    ['labelWeight', -1, '--label-weight must be a number >= 0 but is -1'],
    [
      'generatorFilters',
      [8, 0],
      '--filters must be a non-empty list of integers >= 1 but is [8,0]',
    ],
    ['discriminatorFilters', [], '--d-filters must be a non-empty list of integers >= 1 but is []'],
    ['kernelSize', 0, '--kernel-size must be an integer >= 1 but is 0'],
    ['outputStride', 3, '--output-stride must be 1 or 2 but is 3'],
    ['batchSize', 0, '--batch-size must be an integer >= 1 but is 0'],
    ['referenceSize', 0, '--reference-size must be an integer >= 1 but is 0'],
    ['epochs', 0, '--epochs must be an integer >= 1 but is 0'],
    ['lr', 0, '--lr must be a positive finite number but is 0'],
    ['dLr', -1, '--d-lr must be a positive finite number but is -1'],
    ['lrDecay', 1.5, '--lr-decay must be a number from 0 to 1 but is 1.5'],
    ['beta1', 1, '--beta1 must be a number in [0, 1) but is 1'],
    ['seed', 0.5, '--seed must be an integer >= 0 but is 0.5'],
    ['evalSamples', 1, '--eval-samples must be an integer >= 2 but is 1'],
    ['checkpointEvery', -2, '--checkpoint-every must be an integer >= 0 but is -2'],
  ];
  it.each(refusals)('refuses %s = %s', (field, value, message) => {
    expect(errorMessage(() => resolveGanTrainConfig({ [field]: value }))).toBe(
      `vbn gan: ${message}`,
    );
  });
  it('has a refusal case for every option', () => {
    expect(new Set(refusals.map(([f]) => f))).toEqual(new Set(Object.keys(GAN_OPTIONS)));
  });
  it('refuses a code as long as z', () => {
    expect(errorMessage(() => resolveGanTrainConfig({ latentDim: 10 }))).toBe(
      'vbn gan: codes 10 (--codes, default 10) must be below latentDim 10 (--latent-dim): z needs a normal part',
    );
    expect(resolveGanTrainConfig({ latentDim: 10, codes: 9 }).codes).toBe(9);
  });
});

describe('resumeGanConfig', () => {
  const saved = resolveGanTrainConfig({ epochs: 2 });
  it('takes epochs and checkpointEvery', () => {
    expect(resumeGanConfig(saved, { epochs: 6, checkpointEvery: 5, lr: 1e-3 }, 'g')).toEqual({
      ...saved,
      epochs: 6,
      checkpointEvery: 5,
    });
  });
  it('refuses the rest with the flag the user typed', () => {
    expect(errorMessage(() => resumeGanConfig(saved, { discriminatorFilters: [8] }, 'g'))).toMatch(
      /^--resume g: --d-filters 8 would change the run, which has --d-filters 32,64,128/,
    );
    expect(errorMessage(() => resumeGanConfig(saved, { beta1: 0.9 }, 'g'))).toMatch(
      /^--resume g: --beta1 0.9 would change the run, which has --beta1 0.5/,
    );
  });
});

describe('resolveGeneratorConfig and resolveDiscriminatorConfig', () => {
  it('fill the library defaults (no code)', () => {
    expect(resolveGeneratorConfig()).toEqual({
      latentDim: 64,
      codes: 0,
      outputShape: [28, 28, 1],
      filters: [64, 32, 16],
      kernelSize: 4,
      outputStride: 1,
      norm: 'vbn',
      mode: 'virtual',
      epsilon: 1e-5,
    });
    expect(resolveDiscriminatorConfig()).toEqual({
      inputShape: [28, 28, 1],
      filters: [32, 64, 128],
      kernelSize: 4,
      leak: 0.2,
      codes: 0,
    });
  });
  const generator: [object, string][] = [
    [{ latentDim: 0 }, 'latentDim must be an integer >= 1 but is 0'],
    [{ codes: -1 }, 'codes must be an integer >= 0 but is -1'],
    [{ outputShape: [28, 28] }, 'outputShape must be [H, W, C] but is [28,28]'],
    [{ outputShape: [28, 0, 1] }, 'outputShape[1] must be an integer >= 1 but is 0'],
    [{ filters: [] }, 'filters must be a non-empty list of integers >= 1 but is []'],
    [{ kernelSize: 0 }, 'kernelSize must be an integer >= 1 but is 0'],
    [{ outputStride: 3 }, 'outputStride must be 1 or 2 but is 3'],
    [{ norm: 'layer' }, `unknown norm "layer" (expected one of 'vbn', 'bn', 'none')`],
    [{ mode: 'x' }, `unknown mode "x" (expected one of 'virtual', 'reference')`],
    [{ epsilon: 0 }, 'epsilon must be a positive finite number but is 0'],
    [{ codes: 64 }, 'codes 64 must be below latentDim 64 (z needs a normal part)'],
  ];
  it.each(generator)('createGenerator refuses %j', (config, message) => {
    expect(errorMessage(() => resolveGeneratorConfig(config))).toBe(`createGenerator: ${message}`);
  });
  const discriminator: [object, string][] = [
    [{ inputShape: [28, 28, 1, 1] }, 'inputShape must be [H, W, C] but is [28,28,1,1]'],
    [{ filters: [0] }, 'filters must be a non-empty list of integers >= 1 but is [0]'],
    [{ kernelSize: -4 }, 'kernelSize must be an integer >= 1 but is -4'],
    [{ leak: 1 }, 'leak must be a number in [0, 1) but is 1'],
    [{ codes: 1.5 }, 'codes must be an integer >= 0 but is 1.5'],
  ];
  it.each(discriminator)('createDiscriminator refuses %j', (config, message) => {
    expect(errorMessage(() => resolveDiscriminatorConfig(config))).toBe(
      `createDiscriminator: ${message}`,
    );
  });
});
