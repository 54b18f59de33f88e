import { Command } from 'commander';
import { basename, dirname, join } from 'node:path';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { useBackend, type BackendChoice } from '../backend/select.js';
import { npyBytes } from '../data/npy.js';
import { VbnError } from '../errors.js';
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

export function ganSampleCommand(ctx: CliContext): Command {
  const cmd = new Command('gan-sample').description(
    'generate images from a GAN checkpoint: [N, H, W, C] float32 in [0, 1] as .npy, or a PNG grid',
  );
  cmd
    .requiredOption('--checkpoint <dir>', 'a GAN checkpoint folder, or a run folder (its last)')
    .requiredOption('--count <n>', 'number of images', integer(1))
    .requiredOption('--out <file>', 'FILE.npy or FILE.png (a grid, 10 per row)')
    .option('--seed <n>', 'seed of the latents (default 0)', integer(0), 0);
  runtimeFlags(cmd);
  cmd.action(
    async (flags: {
      checkpoint: string;
      count: number;
      out: string;
      seed: number;
      backend: BackendChoice;
      threads?: number;
    }) => {
      const kind = checkOut(flags.out);
      const gan = loadGan(flags.checkpoint);
      try {
        await useBackend(flags.backend, undefined, { threads: flags.threads });
        const shape = gan.generator.config.outputShape;
        const z = latents(
          flags.seed,
          SAMPLE_STREAM,
          flags.count,
          gan.generator.config.latentDim,
          gan.generator.config.codes,
        );
        const images = generateImages(gan.generator, gan.gParams, gan.referenceZ, z);
        z.dispose();
        if (kind === 'png') {
          if (shape[2] !== 1) throw new VbnError(`--out ${flags.out}: PNG grids need 1 channel`);
          writeGrid(flags.out, images, flags.count, shape[0], shape[1]);
        } else {
          const tmp = join(dirname(flags.out), `.${basename(flags.out)}.tmp-${process.pid}`);
          writeFileSync(tmp, npyBytes(images, [flags.count, ...shape]));
          renameSync(tmp, flags.out);
        }
        ctx.out(`${flags.out}: ${flags.count} images ${shape.join('x')} from ${gan.dir}`);
      } finally {
        disposeGan(gan);
      }
    },
  );
  return cmd;
}
