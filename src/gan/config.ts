import { VbnError } from '../errors.js';
import { defaultsOf, resolveOptions, type Values } from '../options/schema.js';
import { mergeResumed } from '../train/config.js';
import {
  BELOW_ONE,
  INT_LIST,
  POSITIVE,
  checkRule,
  intRule,
  oneOfRule,
  type Rule,
} from '../vbn/validate.js';
import { DEFAULT_EPSILON, VBN_MODES, type VbnMode } from '../vbn/options.js';
import { GAN_NORMS, GAN_OPTIONS, type GanNorm } from './options.js';

export { GAN_NORMS, GAN_OPTIONS, type GanNorm };

/** Settings of a GAN run (`vbn gan`), derived from GAN_OPTIONS; saved in its checkpoints. */
export type GanTrainConfig = Values<typeof GAN_OPTIONS>;

const RUN = defaultsOf(GAN_OPTIONS) as GanTrainConfig;

/** Every GAN default, in one place (library and command line); the run's come from GAN_OPTIONS. */
export const GAN_DEFAULTS = {
  ...RUN,
  outputShape: [28, 28, 1] as [number, number, number],
  leak: 0.2,
  /** createGenerator / createDiscriminator: no categorical code in z (a plain GAN). */
  codes: 0,
  /** `vbn gan`'s categorical code (InfoGAN): z's last 10 entries are one-hot (docs/gan.md). */
  runCodes: RUN.codes,
  /** Weight of the code's cross-entropy in both networks' losses (InfoGAN's lambda). */
  infoWeight: 1,
  /** ganOptimizer's Adam: the DCGAN settings. */
  adam: { lr: 2e-4, beta1: 0.5 },
};

export interface GeneratorConfig {
  /** Length of z. Default 64. */
  latentDim?: number;
  /**
   * The last `codes` entries of z are a one-hot categorical code (InfoGAN; sampled by `latents`),
   * the rest standard normal; 0: all standard normal. Below latentDim. Default 0.
   */
  codes?: number;
  /** [H, W, C] of one image; H and W divisible by 2^(the upsamplings). Default [28, 28, 1]. */
  outputShape?: [number, number, number];
  /**
   * Channels of the hidden blocks. filters[0]: the dense layer's output, reshaped to
   * [H / 2^L, W / 2^L, filters[0]]; filters[i > 0]: a stride-2 conv2dTranspose. Each is followed
   * by the norm and ReLU; a last conv2dTranspose (stride outputStride) to C channels and tanh
   * give the image. Default [64, 32, 16].
   */
  filters?: number[];
  /** Square kernel of every conv2dTranspose. Default 4 (oneDNN's 5x5 stride-2 transposed conv to 1 channel is ~40x slower). */
  kernelSize?: number;
  /**
   * Stride of the output conv2dTranspose: 2 (an upsampling: H = h0 x 2^filters.length) or 1 (a
   * layer at full size after the last block: H = h0 x 2^(filters.length - 1)). Default 1.
   */
  outputStride?: 1 | 2;
  /** 'vbn' (default), 'bn' (the batch's own statistics) or 'none'. */
  norm?: GanNorm;
  /** VBN mode (norm 'vbn'): 'virtual' (default) or 'reference'. */
  mode?: VbnMode;
  /** Norm epsilon. Default 1e-5. */
  epsilon?: number;
}
export type ResolvedGeneratorConfig = Required<GeneratorConfig>;

export interface DiscriminatorConfig {
  /** [H, W, C] of one image. Default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Channels of each stride-2 conv + leaky ReLU block. Default [32, 64, 128]. */
  filters?: number[];
  /** Square kernel of every conv. Default 4. */
  kernelSize?: number;
  /** Slope of the leaky ReLU for negative inputs. Default 0.2. */
  leak?: number;
  /** Outputs of a head that recovers the generator's categorical code (InfoGAN); 0: none. Default 0. */
  codes?: number;
}
export type ResolvedDiscriminatorConfig = Required<DiscriminatorConfig>;

const positive = intRule(1);
const STRIDES = GAN_OPTIONS.outputStride.rule;
const check = <T>(fn: string, name: string, v: unknown, rule: Rule<T>): T =>
  checkRule(fn, name, v, rule);

function shape3(fn: string, name: string, v: unknown): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) {
    throw new VbnError(`${fn}: ${name} must be [H, W, C] but is ${JSON.stringify(v)}`);
  }
  return v.map((d, i) => check(fn, `${name}[${i}]`, d, positive)) as [number, number, number];
}

/** How many stride-2 upsamplings the generator makes: one per hidden block after the first, and the output layer's if its stride is 2. */
export function upsamplings(c: ResolvedGeneratorConfig): number {
  return c.filters.length - 1 + (c.outputStride === 2 ? 1 : 0);
}

export function resolveGeneratorConfig(config: GeneratorConfig = {}): ResolvedGeneratorConfig {
  const fn = 'createGenerator';
  const d = GAN_DEFAULTS;
  const O = GAN_OPTIONS;
  const c: ResolvedGeneratorConfig = {
    latentDim: check(fn, 'latentDim', config.latentDim ?? d.latentDim, O.latentDim.rule),
    codes: check(fn, 'codes', config.codes ?? d.codes, O.codes.rule),
    outputShape: shape3(fn, 'outputShape', config.outputShape ?? d.outputShape),
    filters: check(fn, 'filters', config.filters ?? d.generatorFilters, INT_LIST),
    kernelSize: check(fn, 'kernelSize', config.kernelSize ?? d.kernelSize, O.kernelSize.rule),
    outputStride: check(fn, 'outputStride', config.outputStride ?? d.outputStride, STRIDES),
    norm: check(fn, 'norm', config.norm ?? d.norm, O.norm.rule),
    mode: check(fn, 'mode', config.mode ?? d.mode, oneOfRule(VBN_MODES)),
    epsilon: check(fn, 'epsilon', config.epsilon ?? DEFAULT_EPSILON, POSITIVE),
  };
  if (c.codes >= c.latentDim) {
    throw new VbnError(
      `${fn}: codes ${c.codes} must be below latentDim ${c.latentDim} (z needs a normal part)`,
    );
  }
  const ups = upsamplings(c);
  const up = 2 ** ups;
  const [h, w] = c.outputShape;
  if (h % up !== 0 || w % up !== 0) {
    throw new VbnError(
      `${fn}: outputShape ${JSON.stringify(c.outputShape)} needs H and W divisible by 2^${ups} = ${up} (filters [${c.filters.join(',')}] with outputStride ${c.outputStride} upsample ${ups} times)`,
    );
  }
  return c;
}

export function resolveDiscriminatorConfig(
  config: DiscriminatorConfig = {},
): ResolvedDiscriminatorConfig {
  const fn = 'createDiscriminator';
  const d = GAN_DEFAULTS;
  return {
    inputShape: shape3(fn, 'inputShape', config.inputShape ?? d.outputShape),
    filters: check(fn, 'filters', config.filters ?? d.discriminatorFilters, INT_LIST),
    kernelSize: check(fn, 'kernelSize', config.kernelSize ?? d.kernelSize, positive),
    leak: check(fn, 'leak', config.leak ?? d.leak, BELOW_ONE),
    codes: check(fn, 'codes', config.codes ?? d.codes, GAN_OPTIONS.codes.rule),
  };
}

/**
 * A run whose labelWeight is above 0 ties code k to class k: its codes must be the data's
 * classes (`classNames`, those of --classes).
 */
export function checkLabelCodes(config: GanTrainConfig, classNames: readonly string[]): void {
  if (config.labelWeight > 0 && config.codes !== classNames.length) {
    throw new VbnError(
      `vbn gan: --label-weight ${config.labelWeight} ties code k to class k, so --codes (default ${GAN_DEFAULTS.runCodes}) must be the data's ${classNames.length} classes (${classNames.join(',')}) but is ${config.codes}; pass --codes ${classNames.length}, or --label-weight 0 for an unsupervised code`,
    );
  }
}

/**
 * The learning rate of step k (0-based) of a run of `total` steps: `base` until the last
 * `decay x total` steps, then falling linearly, `base x (total - k) / (decay x total)`, to
 * base / (decay x total) at the last step.
 */
export function learningRateAt(base: number, k: number, total: number, decay: number): number {
  if (decay <= 0) return base;
  return base * Math.min(1, (total - k) / (decay * total));
}

/** Applies GAN_OPTIONS' defaults to what is unset and validates the rest; a refusal names the flag. */
export function resolveGanTrainConfig(config: Partial<GanTrainConfig> = {}): GanTrainConfig {
  const fn = 'vbn gan';
  const c = resolveOptions(GAN_OPTIONS, config, fn);
  if (c.codes >= c.latentDim) {
    throw new VbnError(
      `${fn}: codes ${c.codes} (--codes, default ${GAN_DEFAULTS.runCodes}) must be below latentDim ${c.latentDim} (--latent-dim): z needs a normal part`,
    );
  }
  return c;
}

/** The saved configuration with what `given` may change (GAN_OPTIONS' `resumable`); other changes refused. */
export function resumeGanConfig(
  saved: GanTrainConfig,
  given: Partial<GanTrainConfig>,
  runDir: string,
): GanTrainConfig {
  return resolveGanTrainConfig(mergeResumed(saved, given, runDir, GAN_OPTIONS));
}
