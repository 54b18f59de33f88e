import { VbnError } from '../errors.js';
import { checkNonNegative, checkOneOf, checkPositive } from '../vbn/validate.js';
import { DEFAULT_EPSILON, VBN_MODES, type VbnMode } from '../vbn/options.js';

/** How the generator normalizes its hidden activations. */
export type GanNorm = 'vbn' | 'bn' | 'none';
export const GAN_NORMS: readonly GanNorm[] = ['vbn', 'bn', 'none'];

/** Every GAN default, in one place (library and command line). */
export const GAN_DEFAULTS = {
  latentDim: 64,
  outputShape: [28, 28, 1] as [number, number, number],
  generatorFilters: [64, 32, 16],
  discriminatorFilters: [32, 64, 128],
  kernelSize: 4,
  /** A stride-1 output layer at 28x28 after the 16-channel block (docs/gan.md). */
  outputStride: 1 as 1 | 2,
  norm: 'vbn' as GanNorm,
  mode: 'virtual' as VbnMode,
  leak: 0.2,
  /** createGenerator / createDiscriminator: no categorical code in z (a plain GAN). */
  codes: 0,
  /**
   * `vbn gan`'s categorical code (InfoGAN, Chen et al. 2016): z's last 10 entries are one-hot and
   * a head on the discriminator learns to recover them (docs/gan.md).
   */
  runCodes: 10,
  /** Weight of the code's cross-entropy in both networks' losses (InfoGAN's lambda). */
  infoWeight: 1,
  /**
   * Weight of the real images' class loss on the code head (AC-GAN, Odena et al. 2017): ganStep's
   * with realLabels, and `vbn gan`'s, which passes the real batch's labels unless it is 0, so that
   * code k draws digit k (docs/gan.md, the sixth round).
   */
  labelWeight: 1,
  /** ganOptimizer's Adam: the DCGAN settings. */
  adam: { lr: 2e-4, beta1: 0.5 },
  /**
   * `vbn gan`'s learning rates, generator and discriminator: faster than ganOptimizer's 2e-4,
   * measured to learn more per step on MNIST in docs/gan.md's recipe table.
   */
  lr: 1e-3,
  dLr: 5e-4,
  /** Both learning rates fall linearly to 0 over this last fraction of the run (docs/gan.md). */
  lrDecay: 0.5,
  beta1: 0.5,
  batchSize: 64,
  referenceSize: 64,
  // 4 epochs (3752 steps) took 10.9 (bn) to 14.2 (none) minutes, vbn 13.6, on the idle 2-core machine (docs/gan.md).
  epochs: 4,
  seed: 0,
  evalSamples: 1000,
  checkpointEvery: 0,
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

function intAtLeast(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new VbnError(`${fn}: ${name} must be an integer >= ${min} but is ${String(v)}`);
  }
  return v;
}

function positiveInt(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new VbnError(`${fn}: ${name} must be a positive integer but is ${String(v)}`);
  }
  return v;
}

function intList(fn: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new VbnError(`${fn}: ${name} must be a non-empty list of positive integers`);
  }
  return v.map((f, i) => positiveInt(fn, `${name}[${i}]`, f));
}

function stride12(fn: string, v: unknown): 1 | 2 {
  if (v !== 1 && v !== 2)
    throw new VbnError(`${fn}: outputStride must be 1 or 2 but is ${String(v)}`);
  return v;
}

function shape3(fn: string, name: string, v: unknown): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) {
    throw new VbnError(`${fn}: ${name} must be [H, W, C] but is ${JSON.stringify(v)}`);
  }
  return v.map((d, i) => positiveInt(fn, `${name}[${i}]`, d)) as [number, number, number];
}

/** How many stride-2 upsamplings the generator makes: one per hidden block after the first, and the output layer's if its stride is 2. */
export function upsamplings(c: ResolvedGeneratorConfig): number {
  return c.filters.length - 1 + (c.outputStride === 2 ? 1 : 0);
}

export function resolveGeneratorConfig(config: GeneratorConfig = {}): ResolvedGeneratorConfig {
  const fn = 'createGenerator';
  const d = GAN_DEFAULTS;
  const c: ResolvedGeneratorConfig = {
    latentDim: positiveInt(fn, 'latentDim', config.latentDim ?? d.latentDim),
    codes: intAtLeast(fn, 'codes', config.codes ?? d.codes, 0),
    outputShape: shape3(fn, 'outputShape', config.outputShape ?? d.outputShape),
    filters: intList(fn, 'filters', config.filters ?? d.generatorFilters),
    kernelSize: positiveInt(fn, 'kernelSize', config.kernelSize ?? d.kernelSize),
    outputStride: stride12(fn, config.outputStride ?? d.outputStride),
    norm: checkOneOf(fn, 'norm', config.norm ?? d.norm, GAN_NORMS),
    mode: checkOneOf(fn, 'mode', config.mode ?? d.mode, VBN_MODES),
    epsilon: checkPositive(fn, 'epsilon', config.epsilon ?? DEFAULT_EPSILON),
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
  const leak = config.leak ?? d.leak;
  if (typeof leak !== 'number' || !(leak >= 0 && leak < 1)) {
    throw new VbnError(`${fn}: leak must be a number in [0, 1) but is ${String(leak)}`);
  }
  return {
    inputShape: shape3(fn, 'inputShape', config.inputShape ?? d.outputShape),
    filters: intList(fn, 'filters', config.filters ?? d.discriminatorFilters),
    kernelSize: positiveInt(fn, 'kernelSize', config.kernelSize ?? d.kernelSize),
    leak,
    codes: intAtLeast(fn, 'codes', config.codes ?? d.codes, 0),
  };
}

/** Settings of a GAN run (`vbn gan`), saved in its checkpoints. */
export interface GanTrainConfig {
  norm: GanNorm;
  mode: VbnMode;
  latentDim: number;
  /** Categories of z's one-hot code (GeneratorConfig.codes); 0: none. */
  codes: number;
  /**
   * Weight of the real images' class loss on the code head (AC-GAN); 0: the code is unsupervised
   * (InfoGAN). Above 0, codes must equal the data's classes: code k is class k.
   */
  labelWeight: number;
  generatorFilters: number[];
  discriminatorFilters: number[];
  kernelSize: number;
  /** The generator's output layer stride (GeneratorConfig.outputStride). */
  outputStride: 1 | 2;
  batchSize: number;
  referenceSize: number;
  epochs: number;
  /** The generator's Adam learning rate. */
  lr: number;
  /** The discriminator's Adam learning rate. */
  dLr: number;
  /**
   * Over the last `lrDecay` fraction of the run's steps (epochs x steps per epoch) both learning
   * rates fall linearly to 0 (see learningRateAt); 0: constant rates.
   */
  lrDecay: number;
  beta1: number;
  seed: number;
  /** Generated images per epoch for the classifier score and Fréchet distance. */
  evalSamples: number;
  /** Also checkpoint every N steps (0: only at the end of each epoch). */
  checkpointEvery: number;
}

function fraction(fn: string, name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new VbnError(`${fn}: ${name} must be a number in [0, 1] but is ${String(v)}`);
  }
  return v;
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

/** Applies GAN_DEFAULTS to what is unset and validates the rest. */
export function resolveGanTrainConfig(config: Partial<GanTrainConfig> = {}): GanTrainConfig {
  const fn = 'vbn gan';
  const d = GAN_DEFAULTS;
  const int = (name: string, v: number, min: number) => intAtLeast(fn, name, v, min);
  const beta1 = config.beta1 ?? d.beta1;
  if (!(beta1 >= 0 && beta1 < 1)) {
    throw new VbnError(`${fn}: beta1 must be in [0, 1) but is ${beta1}`);
  }
  const c: GanTrainConfig = {
    norm: checkOneOf(fn, 'norm', config.norm ?? d.norm, GAN_NORMS),
    mode: checkOneOf(fn, 'mode', config.mode ?? d.mode, VBN_MODES),
    latentDim: int('latentDim', config.latentDim ?? d.latentDim, 1),
    codes: int('codes', config.codes ?? d.runCodes, 0),
    labelWeight: checkNonNegative(fn, 'labelWeight', config.labelWeight ?? d.labelWeight),
    generatorFilters: intList(
      fn,
      'generatorFilters',
      config.generatorFilters ?? d.generatorFilters,
    ),
    discriminatorFilters: intList(
      fn,
      'discriminatorFilters',
      config.discriminatorFilters ?? d.discriminatorFilters,
    ),
    kernelSize: int('kernelSize', config.kernelSize ?? d.kernelSize, 1),
    outputStride: stride12(fn, config.outputStride ?? d.outputStride),
    batchSize: int('batchSize', config.batchSize ?? d.batchSize, 1),
    referenceSize: int('referenceSize', config.referenceSize ?? d.referenceSize, 1),
    epochs: int('epochs', config.epochs ?? d.epochs, 1),
    lr: checkPositive(fn, 'lr', config.lr ?? d.lr),
    dLr: checkPositive(fn, 'dLr', config.dLr ?? d.dLr),
    lrDecay: fraction(fn, 'lrDecay', config.lrDecay ?? d.lrDecay),
    beta1,
    seed: int('seed', config.seed ?? d.seed, 0),
    evalSamples: int('evalSamples', config.evalSamples ?? d.evalSamples, 2),
    checkpointEvery: int('checkpointEvery', config.checkpointEvery ?? d.checkpointEvery, 0),
  };
  if (c.codes >= c.latentDim) {
    throw new VbnError(
      `${fn}: codes ${c.codes} (--codes, default ${d.runCodes}) must be below latentDim ${c.latentDim} (--latent-dim): z needs a normal part`,
    );
  }
  return c;
}
