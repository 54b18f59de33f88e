import type * as tf from '@tensorflow/tfjs-core';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VbnError } from '../../errors.js';
import type { NamedTensor } from '../optimizer-state.js';
import { pointLink, pruneCheckpoints, writeCheckpoint } from './checkpoint.js';

/** What every run's checkpoint.json holds besides its own settings: where the run stands. */
export interface RunMeta {
  state: { step: number; history: readonly object[] };
}

/** What a checkpoint saves besides its metadata. */
export interface RunTensors {
  params: Record<string, tf.Tensor>;
  /** The reference batch (images, or the GAN's latents). */
  reference: tf.Tensor;
  optimizer(): Promise<NamedTensor[]>;
}

/**
 * A run's output folder and its checkpoint policy: config.json, metrics.jsonl, immutable
 * `ckpt-<step>` folders with `last` and `best` links, pruning of the rest. `dir` null writes
 * nothing (library use without an output folder).
 */
export class RunFolder {
  constructor(readonly dir: string | null) {}

  /**
   * Prepares the folder: a new run refuses a folder that already holds one; every run rewrites
   * config.json (a resumed run may have extended --epochs) and metrics.jsonl mirrors the completed
   * epochs of the checkpoint it continues from.
   */
  open(meta: RunMeta, resumed: boolean): void {
    if (!this.dir) return;
    mkdirSync(this.dir, { recursive: true });
    if (!resumed) {
      const existing = readdirSync(this.dir);
      if (existing.some((f) => ['last', 'metrics.jsonl', 'config.json'].includes(f))) {
        throw new VbnError(
          `--out ${this.dir}: already holds a run (use --resume ${this.dir} to continue it, or another --out)`,
        );
      }
    }
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(meta, null, 2));
    const lines = meta.state.history.map((m) => JSON.stringify(m) + '\n');
    writeFileSync(join(this.dir, 'metrics.jsonl'), lines.join(''));
  }

  appendMetrics(m: object): void {
    if (this.dir) appendFileSync(join(this.dir, 'metrics.jsonl'), JSON.stringify(m) + '\n');
  }

  /** Writes `ckpt-<step>` atomically, points `last` (and `best`) at it, prunes the rest. */
  async save(meta: RunMeta, tensors: RunTensors, isBest: boolean): Promise<void> {
    if (!this.dir) return;
    const name = `ckpt-${String(meta.state.step).padStart(8, '0')}`;
    await writeCheckpoint(this.dir, name, {
      meta,
      params: tensors.params,
      reference: tensors.reference,
      optimizer: await tensors.optimizer(),
    });
    pointLink(this.dir, 'last', name);
    if (isBest) pointLink(this.dir, 'best', name);
    pruneCheckpoints(this.dir, ['last', 'best']);
  }

  /** The last good checkpoint, for messages. */
  describeLast(nextStep: number): string {
    return this.dir && existsSync(join(this.dir, 'last'))
      ? `${join(this.dir, 'last')} (written before step ${nextStep})`
      : 'none written';
  }

  /** Where an interruption left the run, for messages. */
  describeStop(): string {
    return this.dir
      ? `interrupted: checkpoint written to ${join(this.dir, 'last')}`
      : 'interrupted';
  }
}
