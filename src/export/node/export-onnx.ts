import * as tf from '@tensorflow/tfjs-core';
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { loadModel } from '../../train/node/load-model.js';
import { disposeGan, loadGan } from '../../gan/node/load-gan.js';
import { readCheckpointMeta, resolveCheckpointDir } from '../../run/node/checkpoint.js';
import { classifierToOnnx, type ExportInfo } from '../classifier-onnx.js';
import { generatorToOnnx } from '../generator-onnx.js';
import { packageVersion } from '../../util/node/package-version.js';
import { checkOutPath, writeFileAtomic } from '../../util/node/write-atomic.js';

export interface ExportOnnxOptions {
  /** A checkpoint folder or a run folder of `vbn train` or `vbn gan`. */
  checkpoint: string;
  /** The .onnx file to write. */
  out: string;
  /** Replace `out` if it exists. Default false: an existing file is an error. */
  force?: boolean;
  /** A `vbn train` run folder: its last checkpoint instead of its best (as `vbn predict --last`). */
  last?: boolean;
}

export interface ExportOnnxSummary {
  kind: 'classifier' | 'generator';
  /** The checkpoint folder the weights came from. */
  checkpoint: string;
  out: string;
  bytes: number;
  /** Input and output names with their shapes; 'batch' is the dynamic dimension. */
  input: { name: string; shape: (number | 'batch')[] };
  output: { name: string; shape: (number | 'batch')[] };
}

/** The checkpoint folder's own name (ckpt-00000361, not the run's 'best' link nor a full path). */
const checkpointName = (dir: string): string => basename(realpathSync(dir));

/**
 * Exports a checkpoint to ONNX (opset 17, dynamic batch): a `vbn train` classifier
 * (`images` -> `logits`, see classifierToOnnx) or a `vbn gan` generator (`z` -> `images` in
 * [0, 1], see generatorToOnnx). Bad input (not a checkpoint, an --out that cannot be written, an
 * existing file without `force`) is a VbnError and leaves nothing written.
 */
export function exportOnnx(options: ExportOnnxOptions): ExportOnnxSummary {
  const force = options.force ?? false;
  checkOutPath(options.out, force);
  const dir = resolveCheckpointDir(options.checkpoint, 'last');
  const kind =
    readCheckpointMeta<{ kind?: string }>(dir).kind === 'gan' ? 'generator' : 'classifier';
  const info: ExportInfo = { producerVersion: packageVersion(), metadata: {} };
  let bytes: Uint8Array;
  let summary: Omit<ExportOnnxSummary, 'out' | 'bytes'>;
  if (kind === 'generator') {
    const gan = loadGan(options.checkpoint);
    try {
      const c = gan.generator.config;
      info.metadata = { checkpoint: checkpointName(gan.dir), step: String(gan.meta.state.step) };
      bytes = generatorToOnnx(gan.generator, gan.gParams, gan.referenceZ, info);
      summary = {
        kind,
        checkpoint: gan.dir,
        input: { name: 'z', shape: ['batch', c.latentDim] },
        output: { name: 'images', shape: ['batch', ...c.outputShape] },
      };
    } finally {
      disposeGan(gan);
    }
  } else {
    const model = loadModel(options.checkpoint, options.last ? 'last' : 'best');
    try {
      const c = model.net.config;
      info.metadata = {
        checkpoint: checkpointName(model.dir),
        step: String(model.meta.state.step),
        classNames: JSON.stringify(model.meta.classNames),
      };
      bytes = classifierToOnnx(model.net, model.params, model.reference, info);
      summary = {
        kind,
        checkpoint: model.dir,
        input: { name: 'images', shape: ['batch', ...c.inputShape] },
        output: { name: 'logits', shape: ['batch', c.numClasses] },
      };
    } finally {
      tf.dispose([model.reference, ...Object.values(model.params)]);
    }
  }
  writeFileAtomic(options.out, bytes, force);
  return { ...summary, out: options.out, bytes: bytes.byteLength };
}
