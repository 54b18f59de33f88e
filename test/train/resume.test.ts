import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadData, train, useBackend } from 'vbn';
import { BIN, vbn } from '../support/run-cli.js';
import { imageFolder, tempDir } from '../support/fixtures.js';
import { BACKENDS } from '../support/helpers.js';

const data = imageFolder(tempDir(), { classes: 2, perClass: 60, size: 28 });
// cpu's pure-JS convolution gradients are slow: a smaller network there.
const netArgs = (backend: string) =>
  backend === 'cpu' ? ['--filters', '4,8', '--image-size', '12'] : ['--filters', '16,32'];
// 96 training images, batch 8: 12 steps per epoch, 36 in all; checkpoints every 2 steps.
const argsFor = (backend: string) => [
  'train',
  '--data',
  data,
  ...netArgs(backend),
  '--reference-size',
  '8',
  '--batch-size',
  '8',
  '--epochs',
  '3',
  '--seed',
  '5',
  '--checkpoint-every',
  '2',
  '--backend',
  backend,
  '--quiet',
];

const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
    .map(({ examplesPerSecond: _a, seconds: _b, ...rest }) => rest);

const stepOf = (dir: string) => {
  try {
    return Number(readlinkSync(join(dir, 'last')).replace('ckpt-', ''));
  } catch {
    return 0;
  }
};

/** Starts a run and sends `signal` once its last checkpoint reaches `atStep`. */
function interrupt(ARGS: string[], out: string, signal: NodeJS.Signals, atStep: number) {
  return new Promise<{
    code: number | null;
    signal: string | null;
    stderr: string;
    killedAt: number;
  }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...ARGS, '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let killedAt = -1;
    const poll = setInterval(() => {
      const s = stepOf(out);
      if (killedAt < 0 && s >= atStep) {
        killedAt = s;
        child.kill(signal);
      }
    }, 5);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr, killedAt });
    });
  });
}

/** The metrics of an uninterrupted 3-epoch run with ARGS (computed once). */
const uninterrupted = (ARGS: string[]) => {
  let m: ReturnType<typeof metrics> | null = null;
  return async () => {
    if (!m) {
      const out = join(tempDir(), 'uninterrupted');
      expect((await vbn([...ARGS, '--out', out])).code).toBe(0);
      m = metrics(out);
      expect(m).toHaveLength(3);
    }
    return m;
  };
};

describe.each(BACKENDS)('crash safety and resume on %s', (backend) => {
  const ARGS = argsFor(backend);
  const reference = uninterrupted(ARGS);

  it('SIGKILL mid-epoch leaves a loadable checkpoint; --resume ends with the metrics of an uninterrupted run', async () => {
    const want = await reference();
    const out = join(tempDir(), 'killed');
    const k = await interrupt(ARGS, out, 'SIGKILL', 3);
    expect(k.signal).toBe('SIGKILL');
    expect(k.killedAt).toBeGreaterThanOrEqual(3);
    expect(existsSync(join(out, 'last', 'checkpoint.json'))).toBe(true);
    const done = metrics(out).length;
    expect(done).toBeLessThan(3); // it really was cut short
    const e = await vbn(['eval', '--checkpoint', out, '--backend', backend, '--json']);
    expect(e.code).toBe(0);
    const r = await vbn(['train', '--resume', out, '--backend', backend, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(metrics(out)).toEqual(want);
  });

  it('SIGINT finishes the step, writes a checkpoint and exits 130; resuming matches too', async () => {
    const want = await reference();
    const out = join(tempDir(), 'interrupted');
    const k = await interrupt(ARGS, out, 'SIGINT', 4);
    expect(k.code).toBe(130);
    expect(k.stderr).toMatch(/stopped after step \d+; resume with: npx vbn train --resume /);
    expect(stepOf(out)).toBeGreaterThanOrEqual(k.killedAt);
    expect(stepOf(out)).toBeLessThan(36);
    // Naming the checkpoint (out/last) instead of the run folder resumes the same run.
    const r = await vbn(['train', '--resume', join(out, 'last'), '--backend', backend, '--quiet']);
    expect(r.code).toBe(0);
    expect(metrics(out)).toEqual(want);
    expect(existsSync(join(out, 'last', 'last'))).toBe(false);
  });

  it('a NaN loss stops the run naming the step and the last good checkpoint, which stays intact', async () => {
    const out = join(tempDir(), 'nan');
    const r = await vbn([
      'train',
      '--data',
      data,
      ...netArgs(backend),
      '--reference-size',
      '8',
      '--batch-size',
      '8',
      '--optimizer',
      'sgd',
      '--lr',
      '1e39',
      '--checkpoint-every',
      '1',
      '--epochs',
      '2',
      '--backend',
      backend,
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const m = /the loss became (NaN|Infinity|-Infinity) at step (\d+) \(epoch 1\)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const failed = Number(m![2]);
    expect(r.stderr).toMatch(
      /no checkpoint was overwritten; last good checkpoint: .*last \(written before step/,
    );
    expect(stepOf(out)).toBe(failed - 1);
    const ck = JSON.parse(readFileSync(join(out, 'last', 'checkpoint.json'), 'utf8'));
    expect(ck.state.step).toBe(failed - 1);
  });

  it('the tensor count stays flat across epochs', async () => {
    await useBackend(backend);
    const counts: number[] = [];
    const d = loadData({ data, valFraction: 0.2, imageSize: backend === 'cpu' ? 12 : undefined });
    await train(d, {
      config: { filters: [4, 4], referenceSize: 8, batchSize: 8, epochs: 4 },
      hooks: { onEpoch: () => void counts.push(tf.memory().numTensors) },
    });
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
    await useBackend('cpu');
  });

  it('--resume RUN --epochs N continues to N epochs in total, like an uninterrupted run', async () => {
    const want = await reference();
    const out = join(tempDir(), 'extended');
    const one = ARGS.map((a, i) => (ARGS[i - 1] === '--epochs' ? '1' : a));
    expect((await vbn([...one, '--out', out])).code).toBe(0);
    expect(metrics(out)).toHaveLength(1);
    // --quiet, --checkpoint-every and --backend are honoured; --epochs is the total.
    const r = await vbn([
      'train',
      '--resume',
      out,
      '--epochs',
      '3',
      '--checkpoint-every',
      '5',
      '--backend',
      backend,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(metrics(out)).toEqual(want);
    const ck = JSON.parse(readFileSync(join(out, 'last', 'checkpoint.json'), 'utf8'));
    expect(ck.config.epochs).toBe(3);
    expect(ck.config.checkpointEvery).toBe(5);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config.epochs).toBe(3);
  });
});
