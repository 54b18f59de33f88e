import { Command } from 'commander';
import { dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import * as tf from '@tensorflow/tfjs-core';
import { npyBytes, readNpy } from '../data/node/npy.js';
import { writeFileAtomic } from '../util/node/write-atomic.js';
import { VbnError, shapeString } from '../errors.js';
import { generateImages, latents } from '../gan/evaluate.js';
import { writeGrid } from '../gan/node/grid.js';
import { disposeGan, loadGan } from '../gan/node/load-gan.js';
import type { CliContext } from './context.js';
import { runtimeFlags } from './flags.js';
import { integer } from './parse.js';

/** Latent stream of gan-sample (distinct from training and gan-eval). */
const SAMPLE_STREAM = 8;

function checkOut(file: string): 'npy' | 'png' {
  const kind = file.endsWith('.npy') ? 'npy' : file.endsWith('.png') ? 'png' : null;
  if (!kind) throw new VbnError(`--out ${file}: expected a file name ending in .npy or .png`);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new VbnError(`--out ${file}: the folder ${dir} does not exist`);
  }
  return kind;
}

/** Latents `[N, latentDim]` float32 from a .npy file (`--z`), finite; one line for anything else. */
function readLatents(file: string, latentDim: number): tf.Tensor2D {
  const z = readNpy(file);
  if (z.dtype !== 'f4')
    throw new VbnError(`--z ${file}: latents must be float32 but the dtype is ${z.dtype}`);
  if (z.shape.length !== 2 || z.shape[1] !== latentDim || z.shape[0] < 1) {
    throw new VbnError(
      `--z ${file}: latents must have shape [N,${latentDim}] (N >= 1, the generator's latentDim) but have shape ${shapeString(z.shape)}`,
    );
  }
  const values = z.data as Float32Array;
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new VbnError(
      `--z ${file}: row ${Math.floor(bad / latentDim)} has a non-finite value (${values[bad]})`,
    );
  }
  return tf.tensor2d(Float32Array.from(values), [z.shape[0], latentDim]);
}

export function ganSampleCommand(ctx: CliContext): Command {
  const cmd = new Command('gan-sample').description(
    'generate images from a GAN checkpoint: [N, H, W, C] float32 in [0, 1] as .npy, or a PNG grid',
  );
  cmd
    .requiredOption('--checkpoint <dir>', 'a GAN checkpoint folder, or a run folder (its last)')
    .option('--count <n>', 'number of images (or --z)', integer(1))
    .option(
      '--z <file>',
      'latents to sample from: float32 .npy [N, latentDim] (instead of --count)',
    )
    .requiredOption('--out <file>', 'FILE.npy or FILE.png (a grid, 10 per row)')
    .option('--seed <n>', 'seed of the latents (default 0)', integer(0));
  runtimeFlags(cmd);
  cmd.action(
    async (flags: {
      checkpoint: string;
      count?: number;
      z?: string;
      out: string;
      seed?: number;
      backend: BackendChoice;
      threads?: number;
    }) => {
      if ((flags.count === undefined) === (flags.z === undefined)) {
        throw new VbnError('gan-sample: give either --count N or --z FILE.npy');
      }
      if (flags.z !== undefined && flags.seed !== undefined) {
        throw new VbnError('gan-sample: --seed draws latents; --z gives them (use one)');
      }
      const kind = checkOut(flags.out);
      const gan = loadGan(flags.checkpoint);
      try {
        await useBackend(flags.backend, undefined, { threads: flags.threads });
        const c = gan.generator.config;
        const shape = c.outputShape;
        const z =
          flags.z !== undefined
            ? readLatents(flags.z, c.latentDim)
            : latents(flags.seed ?? 0, SAMPLE_STREAM, flags.count ?? 0, c.latentDim, c.codes);
        const count = z.shape[0];
        let images: Float32Array;
        try {
          images = generateImages(gan.generator, gan.gParams, gan.referenceZ, z);
        } finally {
          z.dispose();
        }
        if (kind === 'png') {
          if (shape[2] !== 1) throw new VbnError(`--out ${flags.out}: PNG grids need 1 channel`);
          writeGrid(flags.out, images, count, shape[0], shape[1]);
        } else {
          writeFileAtomic(flags.out, npyBytes(images, [count, ...shape]), true);
        }
        ctx.out(`${flags.out}: ${count} images ${shape.join('x')} from ${gan.dir}`);
      } finally {
        disposeGan(gan);
      }
    },
  );
  return cmd;
}
