import * as tf from '@tensorflow/tfjs-core';
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { VbnError } from '../../errors.js';
import { readNpy, npyBytes } from '../../data/node/npy.js';
import type { NamedTensor } from '../optimizer-state.js';

/**
 * Checkpoints on disk. A run folder holds immutable checkpoint folders `ckpt-<step>` and two
 * symbolic links, `last` and `best`, that point at them. A checkpoint folder is written under a
 * temporary name, every file fsynced, then renamed into place; the links are replaced by rename.
 * A kill at any moment leaves the previous `last` and `best` intact and loadable.
 *
 * Files of a checkpoint: checkpoint.json (configs, step, state), weights.json + weights.bin
 * (TensorFlow.js weights manifest and data), reference.npy, optimizer.json + optimizer.bin.
 */

export const CHECKPOINT_FORMAT = 'vbn-checkpoint';

export interface CheckpointContents<Meta> {
  /** Everything JSON: configs, step, epoch, random state, metrics. */
  meta: Meta;
  /** Model parameters by name. */
  params: Record<string, tf.Tensor>;
  /** The reference batch, [N, ...inputShape]. */
  reference: tf.Tensor;
  /** Optimizer state (tf.Optimizer.getWeights()); empty for eval-only checkpoints. */
  optimizer: NamedTensor[];
}

function writeFileDurable(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function encode(tensors: NamedTensor[]): Promise<{ manifest: string; data: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data as ArrayBuffer);
  return { manifest: JSON.stringify([{ paths: [], weights: specs }], null, 1), data: bytes };
}

/** Writes a checkpoint folder `dir/name` atomically and returns its path. */
export async function writeCheckpoint<Meta>(
  runDir: string,
  name: string,
  contents: CheckpointContents<Meta>,
): Promise<string> {
  mkdirSync(runDir, { recursive: true });
  const final = join(runDir, name);
  const tmp = join(runDir, `.${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    await writeFolder(tmp, contents);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true }); // nothing half-written stays
    throw e;
  }
  // Rewriting a name: the old folder moves aside (one rename) and goes only once the new one is
  // in and on disk; if the new one cannot move in, the old one moves back.
  const old = join(runDir, `.${name}.old-${process.pid}`);
  if (existsSync(final)) renameSync(final, old);
  try {
    renameSync(tmp, final);
  } catch (e) {
    if (existsSync(old)) renameSync(old, final);
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(runDir);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/** Every file of a checkpoint into the folder `tmp`, fsynced. */
async function writeFolder<Meta>(tmp: string, contents: CheckpointContents<Meta>): Promise<void> {
  const weights = await encode(
    Object.entries(contents.params).map(([n, tensor]) => ({ name: n, tensor })),
  );
  const withPaths = (m: string, file: string) =>
    JSON.stringify(
      JSON.parse(m).map((g: { weights: unknown }) => ({ paths: [file], weights: g.weights })),
    );
  writeFileDurable(join(tmp, 'weights.bin'), weights.data);
  writeFileDurable(join(tmp, 'weights.json'), withPaths(weights.manifest, 'weights.bin'));
  const opt = await encode(contents.optimizer);
  writeFileDurable(join(tmp, 'optimizer.bin'), opt.data);
  writeFileDurable(join(tmp, 'optimizer.json'), withPaths(opt.manifest, 'optimizer.bin'));
  const ref = contents.reference;
  writeFileDurable(join(tmp, 'reference.npy'), npyBytes(ref.dataSync() as Float32Array, ref.shape));
  writeFileDurable(
    join(tmp, 'checkpoint.json'),
    JSON.stringify({ format: CHECKPOINT_FORMAT, version: 1, ...contents.meta }, null, 2),
  );
  fsyncDir(tmp);
}

/** Points `runDir/link` at `target` (a folder name inside runDir) atomically. */
export function pointLink(runDir: string, link: string, target: string): void {
  const tmp = join(runDir, `.${link}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, join(runDir, link));
  fsyncDir(runDir);
}

/** Removes checkpoint folders no link points at, and leftovers of interrupted writes. */
export function pruneCheckpoints(runDir: string, links: readonly string[]): void {
  // A rewrite stopped between its two renames left the only copy of a name aside: put it back.
  for (const e of readdirSync(runDir)) {
    const aside = /^\.(.+)\.old-\d+$/.exec(e);
    if (aside && !existsSync(join(runDir, aside[1]))) {
      renameSync(join(runDir, e), join(runDir, aside[1]));
    }
  }
  const kept = new Set<string>();
  for (const l of links) {
    const p = join(runDir, l);
    if (existsSync(p) && lstatSync(p).isSymbolicLink()) kept.add(basename(readlinkSync(p)));
  }
  for (const e of readdirSync(runDir)) {
    if ((e.startsWith('ckpt-') && !kept.has(e)) || /^\..*\.(tmp|old)-\d+$/.test(e)) {
      rmSync(join(runDir, e), { recursive: true, force: true });
    }
  }
}

function decodeFile(dir: string, manifestFile: string): tf.NamedTensorMap {
  const manifest = JSON.parse(
    readFileSync(join(dir, manifestFile), 'utf8'),
  ) as tf.io.WeightsManifestConfig;
  const group = manifest[0];
  if (!group) return {};
  const buf = readFileSync(join(dir, group.paths[0]));
  const expected = group.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * 4, 0);
  if (buf.byteLength !== expected) {
    throw new VbnError(
      `${join(dir, group.paths[0])}: truncated (${buf.byteLength} bytes, expected ${expected})`,
    );
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(ab, group.weights);
}

/**
 * Resolves `--checkpoint DIR`: a checkpoint folder, or a run folder (then its `last`, or `best`
 * when `which` is 'best').
 */
export function resolveCheckpointDir(dir: string, which: 'last' | 'best' = 'last'): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new VbnError(`--checkpoint ${dir}: no such folder`);
  }
  if (existsSync(join(dir, 'checkpoint.json'))) return resolve(dir);
  const linked = join(dir, which);
  if (existsSync(join(linked, 'checkpoint.json'))) return resolve(linked);
  throw new VbnError(
    `--checkpoint ${dir}: not a vbn checkpoint (expected checkpoint.json in it, or a run folder with a '${which}' checkpoint)`,
  );
}

/** Reads checkpoint.json of a checkpoint folder; every problem is a VbnError naming the file. */
export function readCheckpointMeta<Meta>(dir: string): Meta {
  const metaFile = join(dir, 'checkpoint.json');
  let meta: Meta & { format?: string };
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  } catch (e) {
    throw new VbnError(
      `${metaFile}: not a readable checkpoint description (${(e as Error).message})`,
    );
  }
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new VbnError(`${metaFile}: not a vbn checkpoint (format is ${String(meta.format)})`);
  }
  return meta;
}

/** Reads a checkpoint folder; every problem is a VbnError naming the file. */
export function readCheckpoint<Meta>(dir: string): CheckpointContents<Meta> {
  const meta = readCheckpointMeta<Meta>(dir);
  try {
    const params = decodeFile(dir, 'weights.json');
    const optMap = decodeFile(dir, 'optimizer.json');
    const npy = readNpy(join(dir, 'reference.npy'));
    const reference = tf.tensor(npy.data as Float32Array, npy.shape, 'float32');
    const optimizer = Object.entries(optMap).map(([name, tensor]) => ({ name, tensor }));
    return { meta, params, reference, optimizer };
  } catch (e) {
    if (e instanceof VbnError) throw e;
    throw new VbnError(`${dir}: damaged checkpoint (${(e as Error).message})`);
  }
}
