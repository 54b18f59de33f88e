import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { pngsToImages, readPng } from '../data/node/folder.js';
import { readNpyImages } from '../data/node/npy.js';
import { resizeImages } from '../data/resize.js';
import { VbnError } from '../errors.js';
import { disposeStatistics } from '../vbn/statistics.js';
import { printJson, type CliContext } from './context.js';
import { runtimeFlags } from './flags.js';
import { loadModel } from '../train/node/load-model.js';

interface Item {
  file: string;
  pixels: Float32Array; // [H, W, C] of the model
}

/** Converts [n, h, w, c] images to the model's [H, W, C]: channels by averaging or repeating, then resize. */
function toModel(
  images: Float32Array,
  n: number,
  shape: [number, number, number],
  want: [number, number, number],
): Float32Array {
  const [h, w, c] = shape;
  const wc = want[2];
  let px = images;
  if (c !== wc) {
    px = new Float32Array(n * h * w * wc);
    for (let i = 0; i < n * h * w; i++) {
      let mean = 0;
      for (let k = 0; k < c; k++) mean += images[i * c + k] / c;
      for (let k = 0; k < wc; k++)
        px[i * wc + k] = c === 1 || wc === 1 ? (c === 1 ? images[i] : mean) : images[i * c + k];
    }
  }
  if (h === want[0] && w === want[1]) return px;
  if (want[0] !== want[1]) {
    throw new VbnError(`predict: images are ${h}x${w} but the model expects ${want[0]}x${want[1]}`);
  }
  return resizeImages(px, n, [h, w, wc], want[0]);
}

function readItems(files: string[], want: [number, number, number]): Item[] {
  const items: Item[] = [];
  for (const file of files) {
    if (file.toLowerCase().endsWith('.npy')) {
      const { values, shape } = readNpyImages(file);
      const [n, h, w, c] = shape;
      const px = toModel(values, n, [h, w, c], want);
      const p = want[0] * want[1] * want[2];
      for (let i = 0; i < n; i++)
        items.push({ file: `${file}[${i}]`, pixels: px.subarray(i * p, (i + 1) * p) });
    } else {
      const d = readPng(file);
      const { images, shape } = pngsToImages([d], undefined, file);
      items.push({ file, pixels: toModel(images, 1, shape, want) });
    }
  }
  return items;
}

export function predictCommand(ctx: CliContext): Command {
  const cmd = new Command('predict')
    .description('classify PNG images (or .npy arrays of images) with a checkpoint')
    .argument('<files...>', 'PNG files or .npy files of shape [N,H,W(,C)]')
    .requiredOption(
      '--checkpoint <dir>',
      'a checkpoint folder, or a run folder (its best checkpoint)',
    )
    .option('--last', "use the run folder's last checkpoint instead of the best");
  runtimeFlags(cmd);
  cmd.action(async (files: string[], flags: Record<string, unknown>) => {
    await useBackend(flags.backend as BackendChoice, undefined, {
      threads: flags.threads as number | undefined,
    });
    const model = loadModel(flags.checkpoint as string, flags.last ? 'last' : 'best');
    const want = model.net.config.inputShape;
    const items = readItems(files, want);
    const names = model.meta.classNames;
    // Two-pass with statistics computed once: each prediction depends on its image and the
    // reference alone, never on the other images in this call.
    const stats = model.net.referenceStatistics(model.params, model.reference);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(items.flatMap((it) => Array.from(it.pixels))), [
        items.length,
        ...want,
      ]);
      const logits = model.net.apply(model.params, model.reference, x, {
        strategy: 'two-pass',
        statistics: stats,
      });
      return tf.softmax(logits).arraySync() as number[][];
    });
    stats.forEach(disposeStatistics);
    tf.dispose([model.reference, ...Object.values(model.params)]);
    const results = items.map((it, i) => {
      const p = probs[i];
      const best = p.indexOf(Math.max(...p));
      return {
        file: it.file,
        class: names[best],
        probabilities: Object.fromEntries(names.map((n, k) => [n, p[k]])),
      };
    });
    if (flags.json) {
      printJson(ctx, results);
    } else {
      for (const r of results) {
        const list = Object.entries(r.probabilities)
          .map(([n, p]) => `${n}: ${p.toFixed(4)}`)
          .join(', ');
        ctx.out(`${r.file}: ${r.class} (${list})`);
      }
    }
  });
  return cmd;
}
