import * as tf from '@tensorflow/tfjs-core';
import { countOf, drawReference, gather, type Dataset } from '../../data/dataset.js';
import { VbnError } from '../../errors.js';
import { createVbnNet, type Params, type VbnNet } from '../../model/net.js';
import type { Evaluation } from '../../train/evaluate.js';
import { computeLoss } from '../../train/losses.js';
import { createOptimizer } from '../../train/optimizers.js';
import { NonFiniteLossError } from '../../train/step.js';
import { disposeStatistics } from '../../vbn/statistics.js';
import { Random } from '../../util/random.js';
import { PAGE_NET, type PageSettings } from './settings.js';

/** One step's result, and the epoch it belongs to. */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
}

/**
 * A training run in the page: network, weights, Adam, the reference batch [N, 28, 28, 1] and the
 * data. `step()` runs one minibatch; `dispose()` frees every tensor it holds.
 *
 * Values come back with `await tensor.data()`, never `dataSync()`: on webgpu, synchronous reads
 * gave zeros here (SwiftShader), so the page has async twins of trainStep and evaluate
 * (src/train/step.ts, src/train/evaluate.ts): the same ops, the same order, awaited reads.
 */
export class TrainingSession {
  readonly net: VbnNet;
  readonly params: Params;
  readonly reference: tf.Tensor4D;
  readonly referenceIndices: number[];
  private readonly optimizer: tf.Optimizer;
  private order: number[] = [];
  private cursor = 0;
  steps = 0;
  epoch = 0;

  constructor(
    readonly settings: PageSettings,
    readonly train: Dataset,
    readonly val: Dataset,
  ) {
    const n = countOf(train);
    if (settings.referenceSize > n) {
      throw new VbnError(
        `reference size: ${settings.referenceSize} is larger than the training data (${n} images of digits ${settings.classes.join(',')})`,
      );
    }
    if (settings.batchSize > n) {
      throw new VbnError(
        `batch size: ${settings.batchSize} is larger than the training data (${n} images)`,
      );
    }
    this.net = createVbnNet({
      ...PAGE_NET,
      inputShape: [...PAGE_NET.inputShape],
      filters: settings.filters,
      mode: settings.mode,
      numClasses: settings.classes.length,
    });
    this.referenceIndices = drawReference(train, settings.referenceSize, settings.seed);
    this.reference = tf.tensor4d(gather(train, this.referenceIndices), [
      settings.referenceSize,
      ...train.shape,
    ]);
    this.params = this.net.init(settings.seed);
    this.optimizer = createOptimizer('adam', settings.lr);
  }

  private nextBatch(): number[] {
    const b = this.settings.batchSize;
    if (this.cursor + b > this.order.length) {
      if (this.order.length) this.epoch++;
      const rng = new Random(this.settings.seed * 1000 + this.epoch);
      this.order = rng.shuffle(Array.from({ length: countOf(this.train) }, (_, i) => i));
      this.cursor = 0;
    }
    const idx = this.order.slice(this.cursor, this.cursor + b);
    this.cursor += b;
    return idx;
  }

  /** Whether the next step starts a new epoch (so the caller can evaluate first). */
  get atEpochEnd(): boolean {
    return this.steps > 0 && this.cursor + this.settings.batchSize > this.order.length;
  }

  /** One Adam step on the next minibatch; the update is never applied when the loss is not finite. */
  async step(): Promise<StepRecord> {
    const idx = this.nextBatch();
    const x = tf.tensor4d(gather(this.train, idx), [idx.length, ...this.train.shape]);
    const labels = tf.tensor1d(
      Int32Array.from(idx, (i) => this.train.labels[i]),
      'int32',
    );
    const out = tf.tidy(() => {
      const oneHot = tf.oneHot(labels, this.net.config.numClasses) as tf.Tensor2D;
      let correct: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.apply(x);
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
        return computeLoss('softmax-cross-entropy', oneHot, logits);
      }, Object.values(this.params));
      return { value, grads, correct: correct! };
    });
    try {
      const [loss, correct] = await Promise.all([out.value.data(), out.correct.data()]);
      if (!Number.isFinite(loss[0])) throw new NonFiniteLossError(loss[0]);
      this.optimizer.applyGradients(out.grads);
      this.steps++;
      return {
        step: this.steps,
        epoch: this.epoch,
        loss: loss[0],
        accuracy: correct[0] / idx.length,
      };
    } finally {
      tf.dispose([x, labels, out.value, out.correct, ...Object.values(out.grads)]);
    }
  }

  private apply(x: tf.Tensor, statistics?: ReturnType<VbnNet['referenceStatistics']>): tf.Tensor2D {
    return this.net.apply(this.params, this.reference, x, {
      strategy: this.settings.strategy,
      statistics,
    }) as tf.Tensor2D;
  }

  /** Mean loss and accuracy on the validation images, in batches of 100. */
  async validate(): Promise<Evaluation> {
    const n = countOf(this.val);
    const stats =
      this.settings.strategy === 'two-pass'
        ? this.net.referenceStatistics(this.params, this.reference)
        : undefined;
    let lossSum = 0;
    let correct = 0;
    try {
      for (let i = 0; i < n; i += 100) {
        const idx = Array.from({ length: Math.min(100, n - i) }, (_, k) => i + k);
        const [loss, ok] = tf.tidy(() => {
          const x = tf.tensor4d(gather(this.val, idx), [idx.length, ...this.val.shape]);
          const labels = tf.tensor1d(this.val.labels.subarray(i, i + idx.length), 'int32');
          const logits = this.apply(x, stats);
          const oneHot = tf.oneHot(labels, this.net.config.numClasses) as tf.Tensor2D;
          const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32'));
          return [computeLoss('softmax-cross-entropy', oneHot, logits), right];
        });
        const [l, c] = await Promise.all([loss.data(), ok.data()]);
        tf.dispose([loss, ok]);
        lossSum += l[0] * idx.length;
        correct += c[0];
      }
    } finally {
      stats?.forEach(disposeStatistics);
    }
    return { loss: lossSum / n, accuracy: correct / n, count: n };
  }

  /** Predicted class of the first `n` validation images. */
  async predict(n: number): Promise<{ indices: number[]; predicted: Int32Array }> {
    const indices = Array.from({ length: Math.min(n, countOf(this.val)) }, (_, i) => i);
    const classes = tf.tidy(() => {
      const x = tf.tensor4d(gather(this.val, indices), [indices.length, ...this.val.shape]);
      return tf.argMax(this.apply(x), 1);
    });
    const predicted = (await classes.data()) as Int32Array;
    classes.dispose();
    return { indices, predicted };
  }

  dispose(): void {
    tf.dispose([this.reference, ...Object.values(this.params)]);
    this.optimizer.dispose();
  }
}
