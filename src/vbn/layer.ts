import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { VbnError } from '../errors.js';
import { virtualBatchNormConcatenated } from './concatenated.js';
import { DEFAULT_EPSILON, VBN_MODES, type VbnMode } from './options.js';
import { checkOneOf, checkPositive } from './validate.js';

type Initializer = ReturnType<typeof tfl.initializers.ones>;
type Regularizer = ReturnType<typeof tfl.regularizers.l2>;
type Constraint = ReturnType<typeof tfl.constraints.nonNeg>;
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** A serialized object, `{ className, config }`, as tf.layers writes initializers and regularizers. */
interface SerializedObject extends tf.serialization.ConfigDict {
  className: string;
  config: tf.serialization.ConfigDict;
}

export interface VirtualBatchNormalizationArgs extends LayerArgs {
  /** Number of leading rows of every input batch that form the reference batch (N). Required. */
  referenceSize: number;
  /** 'virtual' (default) or 'reference'; see VbnMode. */
  mode?: VbnMode;
  /** Channel axis; negative counts from the end. Default -1. */
  axis?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  epsilon?: number;
  /** Learn a per-channel offset beta. Default true. */
  center?: boolean;
  /** Learn a per-channel scale gamma. Default true. */
  scale?: boolean;
  /** Stop gradients through the reference statistics. Default false. */
  stopReferenceGradient?: boolean;
  /** Initializer of beta: 'zeros' (default), 'ones', an Initializer or its serialized form. */
  betaInitializer?: 'zeros' | 'ones' | Initializer | SerializedObject;
  /** Initializer of gamma: 'ones' (default), 'zeros', an Initializer or its serialized form. */
  gammaInitializer?: 'zeros' | 'ones' | Initializer | SerializedObject;
  /** Regularizer of beta (e.g. tf.regularizers.l2()) or its serialized form. Default none. */
  betaRegularizer?: Regularizer | SerializedObject;
  /** Regularizer of gamma or its serialized form. Default none. */
  gammaRegularizer?: Regularizer | SerializedObject;
  /** Constraint on beta or its serialized form. Default none. */
  betaConstraint?: Constraint | SerializedObject;
  /** Constraint on gamma or its serialized form. Default none. */
  gammaConstraint?: Constraint | SerializedObject;
}

function deserialize<T>(value: SerializedObject): T {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[value.className];
  if (!entry) {
    throw new VbnError(`VirtualBatchNormalization: unknown serialized class '${value.className}'`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, value.config) as T;
}

function toObject<T extends tf.serialization.Serializable>(
  value: string | T | SerializedObject | undefined,
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'ones') return tfl.initializers.ones() as unknown as T;
  if (value === 'zeros') return tfl.initializers.zeros() as unknown as T;
  if (typeof value === 'string') {
    throw new VbnError(
      `VirtualBatchNormalization: unknown initializer '${value}' (expected 'ones', 'zeros' or an Initializer)`,
    );
  }
  if (value instanceof tf.serialization.Serializable) return value as T;
  return deserialize<T>(value as SerializedObject);
}

function serialize(value: tf.serialization.Serializable | undefined): SerializedObject | null {
  if (!value) return null;
  return { className: value.getClassName(), config: value.getConfig() };
}

/**
 * VBN as a tf.layers layer. Input batch `[N + B, ..., C]`: the first `referenceSize` rows are the
 * reference (the seed's one-pass layout); they are batch-normalized with their own statistics, the
 * other rows are normalized against them in `mode`. Trainable gamma and beta of shape [C].
 */
export class VirtualBatchNormalization extends tfl.layers.Layer {
  static className = 'VirtualBatchNormalization';
  readonly referenceSize: number;
  readonly mode: VbnMode;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly stopReferenceGradient: boolean;
  private readonly betaInitializer: Initializer;
  private readonly gammaInitializer: Initializer;
  private readonly betaRegularizer?: Regularizer;
  private readonly gammaRegularizer?: Regularizer;
  private readonly betaConstraint?: Constraint;
  private readonly gammaConstraint?: Constraint;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: VirtualBatchNormalizationArgs) {
    super(args);
    const fn = 'VirtualBatchNormalization';
    if (!Number.isInteger(args.referenceSize) || args.referenceSize < 1) {
      throw new VbnError(
        `${fn}: referenceSize must be a positive integer but is ${String(args.referenceSize)}`,
      );
    }
    this.supportsMasking = true;
    this.referenceSize = args.referenceSize;
    this.mode = checkOneOf(fn, 'mode', args.mode ?? 'virtual', VBN_MODES);
    this.axis = args.axis ?? -1;
    this.epsilon = checkPositive(fn, 'epsilon', args.epsilon ?? DEFAULT_EPSILON);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.stopReferenceGradient = args.stopReferenceGradient ?? false;
    this.betaInitializer = toObject<Initializer>(args.betaInitializer ?? 'zeros')!;
    this.gammaInitializer = toObject<Initializer>(args.gammaInitializer ?? 'ones')!;
    this.betaRegularizer = toObject<Regularizer>(args.betaRegularizer);
    this.gammaRegularizer = toObject<Regularizer>(args.gammaRegularizer);
    this.betaConstraint = toObject<Constraint>(args.betaConstraint);
    this.gammaConstraint = toObject<Constraint>(args.gammaConstraint);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const rank = shape.length;
    if (rank < 2) {
      throw new VbnError(
        `VirtualBatchNormalization: input must have rank >= 2 but has shape [${shape.join(',')}]`,
      );
    }
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis <= 0 || axis >= rank) {
      throw new VbnError(
        `VirtualBatchNormalization: axis ${this.axis} is out of range for input shape [${shape.join(',')}] (expected a non-batch axis)`,
      );
    }
    const channels = shape[axis];
    if (channels == null) {
      throw new VbnError(
        `VirtualBatchNormalization: channel axis ${axis} must have a known size (input shape [${shape.join(',')}])`,
      );
    }
    if (this.scale) {
      this.gamma = this.addWeight(
        'gamma',
        [channels],
        'float32',
        this.gammaInitializer,
        this.gammaRegularizer,
        true,
        this.gammaConstraint,
      );
    }
    if (this.center) {
      this.beta = this.addWeight(
        'beta',
        [channels],
        'float32',
        this.betaInitializer,
        this.betaRegularizer,
        true,
        this.betaConstraint,
      );
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return virtualBatchNormConcatenated(x, this.referenceSize, {
        mode: this.mode,
        axis: this.axis,
        epsilon: this.epsilon,
        stopReferenceGradient: this.stopReferenceGradient,
        gamma: this.gamma ? this.gamma.read() : undefined,
        beta: this.beta ? this.beta.read() : undefined,
      });
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      referenceSize: this.referenceSize,
      mode: this.mode,
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      stopReferenceGradient: this.stopReferenceGradient,
      betaInitializer: serialize(this.betaInitializer),
      gammaInitializer: serialize(this.gammaInitializer),
      betaRegularizer: serialize(this.betaRegularizer),
      gammaRegularizer: serialize(this.gammaRegularizer),
      betaConstraint: serialize(this.betaConstraint),
      gammaConstraint: serialize(this.gammaConstraint),
    };
    return { ...super.getConfig(), ...config };
  }
}

tf.serialization.registerClass(VirtualBatchNormalization);

/** Factory in the tf.layers style: `virtualBatchNormalization({ referenceSize: 32 })`. */
export function virtualBatchNormalization(
  args: VirtualBatchNormalizationArgs,
): VirtualBatchNormalization {
  return new VirtualBatchNormalization(args);
}
