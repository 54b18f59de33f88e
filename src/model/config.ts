import { VbnError } from '../errors.js';
import { defaultsOf, resolveOptions, type Values } from '../options/schema.js';
import { intRule, checkOneOf, checkRule } from '../vbn/validate.js';
import { NET_OPTIONS, PADDINGS, type Padding } from './options.js';

export { PADDINGS, type Padding };
export type DataFormat = 'channelsLast' | 'channelsFirst';
/** `concat`: one pass over [reference; inputs]. `two-pass`: reference first, then inputs. */
export type Strategy = 'concat' | 'two-pass';
export const STRATEGIES: readonly Strategy[] = ['concat', 'two-pass'];

/** The network's options (model/options.ts: filters, kernelSize, strides, padding, mode, epsilon, stopReferenceGradient) and its shape. */
export type VbnNetConfig = Partial<Values<typeof NET_OPTIONS>> & {
  /** Shape of one example: [H, W, C] for channelsLast, [C, H, W] for channelsFirst. Required. */
  inputShape: [number, number, number];
  /** Number of output logits. Default 2 (the seed's). */
  numClasses?: number;
  /** Layout of the input: 'channelsLast' ([B,H,W,C], default) or 'channelsFirst' ([B,C,H,W]). */
  dataFormat?: DataFormat;
};

export type ResolvedNetConfig = Required<VbnNetConfig>;

/** Defaults of the network settings, from NET_OPTIONS (training reuses them). */
export const NET_DEFAULTS = {
  ...(defaultsOf(NET_OPTIONS) as Values<typeof NET_OPTIONS>),
  numClasses: 2,
  dataFormat: 'channelsLast' as DataFormat,
};

/** Applies the defaults and validates. */
export function resolveNetConfig(config: VbnNetConfig): ResolvedNetConfig {
  const fn = 'createVbnNet';
  if (!Array.isArray(config.inputShape) || config.inputShape.length !== 3) {
    throw new VbnError(
      `${fn}: inputShape must be [H, W, C] (or [C, H, W] for channelsFirst) but is ${JSON.stringify(config.inputShape)}`,
    );
  }
  config.inputShape.forEach((d, i) => checkRule(fn, `inputShape[${i}]`, d, intRule(1)));
  const resolved: ResolvedNetConfig = {
    ...resolveOptions(NET_OPTIONS, config, fn, 'field'),
    inputShape: [...config.inputShape] as [number, number, number],
    numClasses: checkRule(
      fn,
      'numClasses',
      config.numClasses ?? NET_DEFAULTS.numClasses,
      intRule(1),
    ),
    dataFormat: checkOneOf(fn, 'dataFormat', config.dataFormat ?? NET_DEFAULTS.dataFormat, [
      'channelsLast',
      'channelsFirst',
    ] as const),
  };
  // Check the spatial size stays positive through the blocks.
  let [h, w] = spatialOf(resolved);
  for (let i = 0; i < resolved.filters.length; i++) {
    [h, w] = [convOut(h, resolved), convOut(w, resolved)];
    if (h < 1 || w < 1) {
      throw new VbnError(
        `${fn}: block ${i} would have an empty output (${h}x${w}) for input ${JSON.stringify(resolved.inputShape)} with kernelSize ${resolved.kernelSize}, strides ${resolved.strides}, padding '${resolved.padding}'; use a larger input, fewer filters or 'same' padding`,
      );
    }
  }
  return resolved;
}

/** [H, W] of one example. */
export function spatialOf(c: ResolvedNetConfig): [number, number] {
  const s = c.inputShape;
  return c.dataFormat === 'channelsLast' ? [s[0], s[1]] : [s[1], s[2]];
}

export function channelsOf(c: ResolvedNetConfig): number {
  return c.dataFormat === 'channelsLast' ? c.inputShape[2] : c.inputShape[0];
}

export function convOut(
  size: number,
  c: Pick<ResolvedNetConfig, 'padding' | 'strides' | 'kernelSize'>,
): number {
  return c.padding === 'same'
    ? Math.ceil(size / c.strides)
    : Math.floor((size - c.kernelSize) / c.strides) + 1;
}
