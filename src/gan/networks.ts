import type { Params } from '../model/net.js';
import type { GanTrainConfig } from './config.js';
import { createDiscriminator, type Discriminator } from './discriminator.js';
import { createGenerator, type Generator } from './generator.js';

/** The generator and discriminator a run's configuration describes. */
export function networksOf(
  config: GanTrainConfig,
  imageShape: [number, number, number],
): { generator: Generator; discriminator: Discriminator } {
  return {
    generator: createGenerator({
      latentDim: config.latentDim,
      codes: config.codes,
      outputShape: imageShape,
      filters: config.generatorFilters,
      kernelSize: config.kernelSize,
      outputStride: config.outputStride,
      norm: config.norm,
      mode: config.mode,
    }),
    discriminator: createDiscriminator({
      inputShape: imageShape,
      filters: config.discriminatorFilters,
      kernelSize: config.kernelSize,
      codes: config.codes,
    }),
  };
}

const G = 'generator/';
const D = 'discriminator/';

/** Both networks' parameters under one namespace, as a checkpoint stores them. */
export function joinParams(gParams: Params, dParams: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(gParams)) out[G + k] = v;
  for (const [k, v] of Object.entries(dParams)) out[D + k] = v;
  return out;
}

export const PREFIX = { generator: G, discriminator: D } as const;
