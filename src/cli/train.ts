import { Command } from 'commander';
import { dirname, join } from 'node:path';
import { useBackend } from '../backend/select.js';
import { readNpy } from '../data/npy.js';
import { loadData, type DataOptions } from '../data/load.js';
import { VbnError } from '../errors.js';
import { readCheckpoint, resolveCheckpointDir } from '../train/checkpoint.js';
import type { TrainConfig } from '../train/config.js';
import { writeCurves } from '../train/plot.js';
import { train, type CheckpointMeta } from '../train/train.js';
import { integer } from './parse.js';
import { dataFlags, networkFlags, runtimeFlags, trainingFlags } from './flags.js';
import { printJson, type CliContext } from './context.js';
import { progressHooks } from './progress.js';

interface TrainFlags extends DataOptions {
  filters?: number[];
  kernelSize?: number;
  strides?: number;
  padding?: TrainConfig['padding'];
  mode?: TrainConfig['mode'];
  epsilon?: number;
  stopReferenceGradient?: boolean;
  strategy?: TrainConfig['strategy'];
  batchSize?: number;
  referenceSize?: number;
  seed?: number;
  epochs?: number;
  optimizer?: TrainConfig['optimizer'];
  lr?: number;
  loss?: TrainConfig['loss'];
  checkpointEvery?: number;
  reference?: string;
  out?: string;
  resume?: string;
  backend: string;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
  plots: boolean;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export function trainCommand(ctx: CliContext): Command {
  const cmd = new Command('train').description(
    'train the VBN convnet and validate it each epoch; writes config.json, metrics.jsonl, curves.png/svg and checkpoints (last, best) to --out',
  );
  networkFlags(cmd);
  dataFlags(cmd);
  trainingFlags(cmd);
  cmd
    .option(
      '--reference <file>',
      'reference batch as .npy [N,H,W(,C)] instead of a draw from the training data',
    )
    .option('--out <dir>', 'output folder (default runs/run-<time>)')
    .option('--resume <dir>', 'continue the run in DIR from its last complete checkpoint')
    .option('--checkpoint-every <n>', 'also checkpoint every N steps', integer(0))
    .option('--no-plots', 'do not write curves.png / curves.svg')
    .option('--quiet', 'no progress output');
  runtimeFlags(cmd);
  cmd.action(async (flags: TrainFlags) => {
    const fallbacks: string[] = [];
    const backend = await useBackend(flags.backend as never, (l) => fallbacks.push(l), {
      threads: flags.threads,
    });
    let dataOptions: DataOptions = {
      data: flags.data,
      classes: flags.classes,
      imageSize: flags.imageSize,
      valFraction: flags.valFraction,
      limit: flags.limit,
      seed: flags.seed,
    };
    let resumeFrom: string | undefined;
    let outDir = flags.out;
    if (flags.resume) {
      resumeFrom = resolveCheckpointDir(flags.resume, 'last');
      const meta = readCheckpoint<CheckpointMeta>(resumeFrom).meta;
      dataOptions = meta.data;
      // The run folder holds the checkpoints, whether --resume named it or one of its checkpoints.
      outDir = dirname(resumeFrom);
    }
    outDir ??= join('runs', `run-${timestamp()}`);
    let reference;
    if (flags.reference) {
      const npy = readNpy(flags.reference);
      if (npy.dtype !== 'f4' && npy.dtype !== 'u1') {
        throw new VbnError(
          `${flags.reference}: the reference must be float32 or uint8 but the dtype is ${npy.dtype}`,
        );
      }
      const values =
        npy.dtype === 'u1'
          ? Float32Array.from(npy.data as Uint8Array, (v) => v / 255)
          : Float32Array.from(npy.data as Float32Array);
      reference = { values, shape: npy.shape, source: flags.reference };
    }
    const data = loadData(dataOptions);
    const progress = progressHooks({ quiet: Boolean(flags.quiet) });
    if (!flags.quiet)
      ctx.out(
        `data: ${data.description}; backend ${backend}${fallbacks.length ? ` (${fallbacks.join('; ')})` : ''}; output ${outDir}`,
      );
    const summary = await train(data, {
      config: {
        filters: flags.filters,
        kernelSize: flags.kernelSize,
        strides: flags.strides,
        padding: flags.padding,
        mode: flags.mode,
        epsilon: flags.epsilon,
        stopReferenceGradient: flags.stopReferenceGradient,
        strategy: flags.strategy,
        batchSize: flags.batchSize,
        referenceSize: flags.referenceSize,
        seed: flags.seed,
        epochs: flags.epochs,
        optimizer: flags.optimizer,
        lr: flags.lr,
        loss: flags.loss,
        checkpointEvery: flags.checkpointEvery,
      },
      dataOptions,
      outDir,
      reference,
      resumeFrom,
      backend,
      hooks: {
        ...progress,
        onEpoch: async (m, history) => {
          progress.onEpoch?.(m, history);
          if (flags.plots) await writeCurves(outDir, history);
        },
        shouldStop: () => ctx.stopRequested(),
      },
    });
    progress.stop();
    if (summary.interrupted) {
      // Said even with --quiet: the run did not finish.
      ctx.note(
        `stopped after step ${summary.steps}; resume with: npx vbn train --resume ${outDir}`,
      );
    } else if (!flags.quiet) {
      ctx.out(
        `validation accuracy ${(100 * summary.valAccuracy).toFixed(2)}% (loss ${summary.valLoss.toFixed(4)}) after ${summary.epochs} epochs, ${summary.steps} steps, ${summary.seconds.toFixed(1)} s training; checkpoints in ${outDir}`,
      );
    }
    if (flags.json) printJson(ctx, { ...summary, backend });
    if (summary.interrupted) ctx.setExitCode(130);
  });
  return cmd;
}
