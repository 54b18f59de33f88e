import { VbnError } from '../errors.js';
import { checkOneOf, checkPositive } from '../vbn/validate.js';
import { DEFAULT_EPSILON, VBN_MODES, type VbnMode } from '../vbn/options.js';

export type Padding = 'valid' | 'same';
export type DataFormat = 'channelsLast' | 'channelsFirst';
/** `concat`: one pass over [reference; inputs]. `two-pass`: reference first, then inputs. */
export type Strategy = 'concat' | 'two-pass';
export const STRATEGIES: readonly Strategy[] = ['concat', 'two-pass'];
export const PADDINGS: readonly Padding[] = ['valid', 'same'];

export interface VbnNetConfig {
  /** Shape of one example: [H, W, C] for channelsLast, [C, H, W] for channelsFirst. Required. */
  inputShape: [number, number, number];
  /** Filters of each conv -> VBN -> ReLU block. Default [16, 32, 64] (the seed's). */
  filters?: number[];
  /** Square kernel size of every conv. Default 3. */
  kernelSize?: number;
  /** Stride of every conv. Default 1. */
  strides?: number;
  /** Conv padding: 'valid' (the seed's) or 'same'. Default 'valid'. */
  padding?: Padding;
  /** Number of output logits. Default 2 (the seed's). */
  numClasses?: number;
  /** VBN mode of every block. Default 'virtual'. */
  mode?: VbnMode;
  /** VBN epsilon. Default 1e-5. */
  epsilon?: number;
  /** Stop gradients through the reference statistics. Default false. */
  stopReferenceGradient?: boolean;
  /** Layout of the input: 'channelsLast' ([B,H,W,C], default) or 'channelsFirst' ([B,C,H,W]). */
  dataFormat?: DataFormat;
}

export type ResolvedNetConfig = Required<VbnNetConfig>;

/** Defaults of the network settings: the one place they live (training reuses them). */
export const NET_DEFAULTS = {
  filters: [16, 32, 64],
  kernelSize: 3,
  strides: 1,
  padding: 'valid',
  numClasses: 2,
  mode: 'virtual',
  epsilon: DEFAULT_EPSILON,
  stopReferenceGradient: false,
  dataFormat: 'channelsLast',
} as const satisfies Omit<ResolvedNetConfig, 'inputShape' | 'filters'> & {
  filters: readonly number[];
};

const positiveInt = (name: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new VbnError(`createVbnNet: ${name} must be a positive integer but is ${String(v)}`);
  }
  return v;
};

/** Applies NET_DEFAULTS and validates. */
export function resolveNetConfig(config: VbnNetConfig): ResolvedNetConfig {
  const fn = 'createVbnNet';
  if (!Array.isArray(config.inputShape) || config.inputShape.length !== 3) {
    throw new VbnError(
      `${fn}: inputShape must be [H, W, C] (or [C, H, W] for channelsFirst) but is ${JSON.stringify(config.inputShape)}`,
    );
  }
  config.inputShape.forEach((d, i) => positiveInt(`inputShape[${i}]`, d));
  const filters = config.filters ?? NET_DEFAULTS.filters;
  if (!Array.isArray(filters) || filters.length === 0) {
    throw new VbnError(`${fn}: filters must be a non-empty list of positive integers`);
  }
  filters.forEach((f, i) => positiveInt(`filters[${i}]`, f));
  const resolved: ResolvedNetConfig = {
    inputShape: [...config.inputShape] as [number, number, number],
    filters: [...filters],
    kernelSize: positiveInt('kernelSize', config.kernelSize ?? NET_DEFAULTS.kernelSize),
    strides: positiveInt('strides', config.strides ?? NET_DEFAULTS.strides),
    padding: checkOneOf(fn, 'padding', config.padding ?? NET_DEFAULTS.padding, PADDINGS),
    numClasses: positiveInt('numClasses', config.numClasses ?? NET_DEFAULTS.numClasses),
    mode: checkOneOf(fn, 'mode', config.mode ?? NET_DEFAULTS.mode, VBN_MODES),
    epsilon: checkPositive(fn, 'epsilon', config.epsilon ?? NET_DEFAULTS.epsilon),
    stopReferenceGradient: config.stopReferenceGradient ?? NET_DEFAULTS.stopReferenceGradient,
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

export function convOut(size: number, c: ResolvedNetConfig): number {
  return c.padding === 'same'
    ? Math.ceil(size / c.strides)
    : Math.floor((size - c.kernelSize) / c.strides) + 1;
}
