import { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { useBackend } from '../backend/node/select.js';
import { readNpyImages } from '../data/node/npy.js';
import { DATA_DEFAULTS, loadData, type DataOptions } from '../data/node/load.js';
import { VbnError } from '../errors.js';
import { readCheckpointMeta, resolveCheckpointDir } from '../run/node/checkpoint.js';
import {
  TRAIN_OPTIONS,
  flagOf,
  resumeChangeError,
  resolveTrainConfig,
  resumeConfig,
  type TrainConfig,
} from '../train/config.js';
import { givenValues } from '../options/schema.js';
import { writeCurves } from '../train/node/plot.js';
import type { CheckpointMeta } from '../train/node/state.js';
import { train } from '../train/node/train.js';
import type { BackendChoice } from '../backend/node/select.js';
import { addOptions, dataFlags, runtimeFlags } from './flags.js';
import { printJson, type CliContext } from './context.js';
import { refuseUnfitTraining } from './fits.js';
import { progressHooks } from './progress.js';
import { commandHooks, noteInterrupted } from './run-hooks.js';

interface TrainFlags extends DataOptions, Partial<TrainConfig> {
  reference?: string;
  out?: string;
  resume?: string;
  backend: BackendChoice;
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
  addOptions(cmd, TRAIN_OPTIONS);
  dataFlags(cmd, DATA_DEFAULTS);
  cmd
    .option(
      '--reference <file>',
      'reference batch as .npy [N,H,W(,C)] instead of a draw from the training data',
    )
    .option('--out <dir>', 'output folder (default: runs/run-<time>)')
    .option(
      '--resume <dir>',
      'continue the run in DIR from its last complete checkpoint; --epochs is then the total',
    )
    .option('--no-plots', 'do not write curves.png / curves.svg')
    .option('--quiet', 'no progress output');
  runtimeFlags(cmd);
  cmd.action((flags: TrainFlags) => trainAction(ctx, flags));
  return cmd;
}

/** Data flags a resumed run may not change (the seed is checked with the configuration). */
const DATA_KEYS = ['data', 'classes', 'imageSize', 'valFraction', 'limit'] as const;

/** Where a resumed run continues and the data it was trained on; refuses flags that change it. */
function resumeTarget(flags: TrainFlags): {
  from: string;
  outDir: string;
  data: DataOptions;
  meta: CheckpointMeta;
} {
  const from = resolveCheckpointDir(flags.resume!, 'last');
  const meta = readCheckpointMeta<CheckpointMeta>(from);
  const data = meta.data;
  // The run folder holds the checkpoints, whether --resume named it or one of its checkpoints.
  const outDir = dirname(from);
  const refuse = (flag: string, value: unknown, was: unknown) => {
    throw resumeChangeError(flags.resume!, flag, value, was);
  };
  for (const k of DATA_KEYS) {
    const was = data[k] ?? (DATA_DEFAULTS as DataOptions)[k];
    if (flags[k] !== undefined && flags[k] !== was) refuse(flagOf(k), flags[k], was ?? 'unset');
  }
  if (flags.reference) refuse('--reference', flags.reference, 'its saved reference batch');
  const config = resumeConfig(meta.config, configFlags(flags), flags.resume!);
  if (config.epochs < meta.state.epoch) {
    throw new VbnError(
      `--epochs ${config.epochs}: the run in ${outDir} has already completed ${meta.state.epoch} epochs (--epochs is the total)`,
    );
  }
  if (flags.out !== undefined && resolve(flags.out) !== resolve(outDir)) {
    refuse('--out', flags.out, `its folder ${outDir}`);
  }
  return { from, outDir, data, meta };
}

function givenReference(file: string) {
  const { values, shape } = readNpyImages(file, 'the reference');
  return { values, shape, source: file };
}

async function trainAction(ctx: CliContext, flags: TrainFlags): Promise<void> {
  const given = configFlags(flags);
  const fresh = flags.resume ? null : resolveTrainConfig(given);
  const mnist = (flags.data ?? DATA_DEFAULTS.data) === 'mnist';
  if (fresh)
    refuseUnfitTraining(given, fresh, { size: flags.imageSize ?? (mnist ? 28 : undefined) });
  const fallbacks: string[] = [];
  const backend = await useBackend(flags.backend, (l) => fallbacks.push(l), {
    threads: flags.threads,
  });
  const resumed = flags.resume ? resumeTarget(flags) : null;
  const dataOptions: DataOptions = resumed?.data ?? {
    data: flags.data,
    classes: flags.classes,
    imageSize: flags.imageSize,
    valFraction: flags.valFraction,
    limit: flags.limit,
    seed: flags.seed,
  };
  const outDir = resumed?.outDir ?? flags.out ?? join('runs', `run-${timestamp()}`);
  const reference = flags.reference ? givenReference(flags.reference) : undefined;
  const data = loadData(dataOptions);
  if (fresh) refuseUnfitTraining(given, fresh, { size: flags.imageSize, shape: data.train.shape });
  if (resumed && flags.epochs === undefined) {
    const { state, config } = resumed.meta;
    if (state.epoch >= config.epochs) {
      ctx.note(
        `the run in ${resumed.outDir} has completed its ${state.epoch} epochs; nothing to train (--epochs N, the total, trains further)`,
      );
    }
  }
  const progress = progressHooks({ quiet: Boolean(flags.quiet) });
  if (!flags.quiet)
    ctx.out(
      `data: ${data.description}; backend ${backend}${fallbacks.length ? ` (${fallbacks.join('; ')})` : ''}; output ${outDir}`,
    );
  const summary = await train(data, {
    config: given,
    dataOptions,
    outDir,
    reference,
    resumeFrom: resumed?.from,
    backend,
    hooks: {
      ...progress,
      ...commandHooks(ctx, progress, flags.plots ? (h) => writeCurves(outDir, h) : null),
    },
  });
  progress.stop();
  if (summary.interrupted) {
    noteInterrupted(ctx, 'train', summary.steps, outDir);
  } else if (!flags.quiet) {
    ctx.out(
      `validation accuracy ${(100 * summary.valAccuracy).toFixed(2)}% (loss ${summary.valLoss.toFixed(4)}) after ${summary.epochs} epochs, ${summary.steps} steps, ${summary.seconds.toFixed(1)} s training; checkpoints in ${outDir}`,
    );
  }
  if (flags.json) printJson(ctx, { ...summary, backend });
  if (summary.interrupted) ctx.setExitCode(130);
}

/** The configuration fields the flags set; undefined where a flag was not given. */
function configFlags(flags: TrainFlags): Partial<TrainConfig> {
  return givenValues(TRAIN_OPTIONS, flags);
}
