import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, readdirSync, readlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  pointLink,
  pruneCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointContents,
} from '../../src/run/node/checkpoint.js';
import { useBackend } from 'vbn';
import { tempDir } from '../support/fixtures.js';

await useBackend('cpu');

/**
 * A checkpoint write that fails partway (a tensor that cannot be read: thrown after some files
 * are written) leaves the previous checkpoint and `last` as they were, and no partial folder.
 */
type Meta = { step: number };

function contents(step: number, broken?: 'optimizer' | 'reference'): CheckpointContents<Meta> {
  const c = {
    meta: { step },
    params: { w: tf.fill([3, 2], step), b: tf.fill([2], -step) },
    reference: tf.fill([2, 3], step / 10),
    optimizer: [{ name: 'm', tensor: tf.fill([4], step * 2) }],
  };
  if (broken === 'reference') c.reference.dispose();
  if (broken === 'optimizer') c.optimizer[0].tensor.dispose();
  return c;
}

/** The checkpoint `last` points at, by name, and its values. */
function last(run: string) {
  const name = readlinkSync(join(run, 'last'));
  const c = readCheckpoint<Meta>(join(run, 'last'));
  const values = {
    step: c.meta.step,
    w: Array.from(c.params.w.dataSync()),
    reference: Array.from(c.reference.dataSync()),
    m: Array.from(c.optimizer[0].tensor.dataSync()),
  };
  tf.dispose([...Object.values(c.params), c.reference, ...c.optimizer.map((o) => o.tensor)]);
  return { name, ...values };
}

describe('checkpoint writes that fail partway', () => {
  for (const broken of ['optimizer', 'reference'] as const) {
    for (const rewrite of [false, true]) {
      const what = rewrite ? 'a rewrite of the checkpoint `last` names' : 'a new checkpoint';
      it(`${what}, failing at the ${broken}: the previous checkpoint and last intact, nothing partial left`, async () => {
        const run = tempDir();
        await writeCheckpoint(run, 'ckpt-step1', contents(1));
        pointLink(run, 'last', 'ckpt-step1');
        const before = last(run);
        expect(before).toMatchObject({ name: 'ckpt-step1', step: 1, w: [1, 1, 1, 1, 1, 1] });
        const name = rewrite ? 'ckpt-step1' : 'ckpt-step2';
        await expect(writeCheckpoint(run, name, contents(2, broken))).rejects.toThrow(/disposed/);
        expect(last(run)).toEqual(before);
        expect(readdirSync(run).sort()).toEqual(['ckpt-step1', 'last']);
      });
    }
  }

  it('a rewrite stopped between its two renames: pruning puts the only copy back where last points', async () => {
    const run = tempDir();
    await writeCheckpoint(run, 'ckpt-step1', contents(1));
    pointLink(run, 'last', 'ckpt-step1');
    const before = last(run);
    // The state a kill leaves between `final -> .final.old-PID` and `.final.tmp-PID -> final`.
    renameSync(join(run, 'ckpt-step1'), join(run, '.ckpt-step1.old-999'));
    mkdirSync(join(run, '.ckpt-step1.tmp-999'));
    pruneCheckpoints(run, ['last']);
    expect(last(run)).toEqual(before);
    expect(readdirSync(run).sort()).toEqual(['ckpt-step1', 'last']);
  });

  it('a rewrite that succeeds replaces the folder whole', async () => {
    const run = tempDir();
    await writeCheckpoint(run, 'ckpt-step1', contents(1));
    pointLink(run, 'last', 'ckpt-step1');
    await writeCheckpoint(run, 'ckpt-step1', contents(3));
    expect(last(run)).toMatchObject({ name: 'ckpt-step1', step: 3, m: [6, 6, 6, 6] });
    expect(readdirSync(run).sort()).toEqual(['ckpt-step1', 'last']);
  });
});
