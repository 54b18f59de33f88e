import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { loadData, type DataOptions } from '../data/node/load.js';
import { VbnError } from '../errors.js';
import { GAN_DEFAULTS, GAN_NORMS, type GanNorm, type GanTrainConfig } from '../gan/config.js';
import { writeGanCurves } from '../gan/node/curves.js';
import type { GanCheckpointMeta, GanEpochMetrics } from '../gan/node/run-state.js';
import { trainGan, type GanHooks } from '../gan/node/train-gan.js';
import { readCheckpoint, resolveCheckpointDir } from '../run/node/checkpoint.js';
import { resumeChangeError } from '../train/config.js';
import { VBN_MODES, type VbnMode } from '../vbn/options.js';
import { printJson, type CliContext } from './context.js';
import { runtimeFlags } from './flags.js';
import { commandHooks, noteInterrupted } from './run-hooks.js';
import {
  choice,
  closedFraction,
  intList,
  integer,
  nonNegativeNumber,
  positiveNumber,
} from './parse.js';

interface GanFlags {
  data?: string;
  classes?: string;
  limit?: number;
  norm?: GanNorm;
  mode?: VbnMode;
  latentDim?: number;
  codes?: number;
  labelWeight?: number;
  filters?: number[];
  dFilters?: number[];
  kernelSize?: number;
  outputStride?: 1 | 2;
  epochs?: number;
  batchSize?: number;
  referenceSize?: number;
  lr?: number;
  dLr?: number;
  lrDecay?: number;
  beta1?: number;
  seed?: number;
  evalSamples?: number;
  checkpointEvery?: number;
  out?: string;
  resume?: string;
  backend: BackendChoice;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
  plots: boolean;
}

const timestamp = () =>
  new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export function epochLine(m: GanEpochMetrics, epochs: number): string {
  return (
    `epoch ${m.epoch}/${epochs}  D loss ${m.dLoss.toFixed(4)}  G loss ${m.gLoss.toFixed(4)}  ` +
    `classifier score ${m.classifierScore.toFixed(3)}  Fréchet distance ${m.frechetDistance.toFixed(3)}  ` +
    `classes ${m.classesCovered}/10  ${m.seconds.toFixed(1)} s`
  );
}

/** A bar per epoch on a terminal, one line per epoch otherwise, nothing when quiet. */
function ganProgress(quiet: boolean): GanHooks & { stop(): void } {
  const stream = process.stdout;
  let bar: cliProgress.SingleBar | null = null;
  let epochs = 0;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  if (quiet) return { stop };
  return {
    stop,
    onStart: (info) => void (epochs = info.epochs),
    onStep(p) {
      if (!stream.isTTY) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format:
              'epoch {epoch}/{epochs} |{bar}| {value}/{total} steps | D {d} | G {g} | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.stepsPerEpoch, p.stepInEpoch - 1, { epoch: p.epoch, epochs, d: '-', g: '-' });
      }
      bar.update(p.stepInEpoch, { d: p.dLoss.toFixed(3), g: p.gLoss.toFixed(3) });
    },
    onEpoch(m) {
      stop();
      stream.write(epochLine(m, epochs) + '\n');
    },
    log(line) {
      stop();
      stream.write(line + '\n');
    },
  };
}

function ganFlags(cmd: Command): Command {
  const D = GAN_DEFAULTS;
  return cmd
    .option('--data <source>', "only 'mnist' (the metrics' classifier is an MNIST classifier)")
    .option('--classes <list>', "MNIST digits: 'all' (default) or a comma list like 3,5")
    .option('--limit <n>', 'use at most N training images', integer(1))
    .option(
      '--norm <norm>',
      `generator norm: ${GAN_NORMS.join('|')} (default ${D.norm})`,
      choice(GAN_NORMS),
    )
    .option(
      '--mode <mode>',
      `VBN mode: virtual or reference (default ${D.mode})`,
      choice(VBN_MODES),
    )
    .option('--latent-dim <n>', `length of z (default ${D.latentDim})`, integer(1))
    .option(
      '--codes <n>',
      `categories of z's one-hot code, recovered by a head on the discriminator (InfoGAN); 0: none (default ${D.runCodes})`,
      integer(0),
    )
    .option(
      '--label-weight <w>',
      `weight of the real images' class loss on the code head (AC-GAN: code k draws class k; needs --codes = the classes); 0: an unsupervised code (default ${D.labelWeight})`,
      nonNegativeNumber,
    )
    .option(
      '--filters <list>',
      `generator block channels (default ${D.generatorFilters.join(',')})`,
      intList,
    )
    .option(
      '--d-filters <list>',
      `discriminator block channels (default ${D.discriminatorFilters.join(',')})`,
      intList,
    )
    .option(
      '--kernel-size <n>',
      `kernel of every (transposed) conv (default ${D.kernelSize})`,
      integer(1),
    )
    .option(
      '--output-stride <s>',
      `the generator's output layer: 2 (an upsampling) or 1 (a layer at full size after the last block) (default ${D.outputStride})`,
      outputStride,
    )
    .option('--epochs <n>', `epochs in total (default ${D.epochs})`, integer(1))
    .option(
      '--batch-size <n>',
      `real and generated images per step (default ${D.batchSize})`,
      integer(1),
    )
    .option('--reference-size <n>', `reference latents N (default ${D.referenceSize})`, integer(1))
    .option('--lr <rate>', `the generator's Adam learning rate (default ${D.lr})`, positiveNumber)
    .option(
      '--d-lr <rate>',
      `the discriminator's Adam learning rate (default ${D.dLr})`,
      positiveNumber,
    )
    .option(
      '--lr-decay <fraction>',
      `both learning rates fall linearly to 0 over this last fraction of the steps; 0: constant (default ${D.lrDecay})`,
      closedFraction,
    )
    .option('--beta1 <b>', `Adam beta1 (default ${D.beta1})`, beta1)
    .option('--seed <n>', `random seed (default ${D.seed})`, integer(0))
    .option(
      '--eval-samples <n>',
      `samples for the per-epoch metrics (default ${D.evalSamples})`,
      integer(2),
    )
    .option('--checkpoint-every <n>', 'also checkpoint every N steps', integer(0))
    .option('--out <dir>', 'output folder (default runs/gan-<time>)')
    .option('--resume <dir>', 'continue the run in DIR from its last complete checkpoint')
    .option('--no-plots', 'do not write curves.png / curves.svg')
    .option('--quiet', 'no progress output');
}

function outputStride(value: string): 1 | 2 {
  if (value !== '1' && value !== '2') throw new InvalidArgumentError('expected 1 or 2.');
  return value === '1' ? 1 : 2;
}

function beta1(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v >= 0 && v < 1)) {
    throw new InvalidArgumentError('expected a number in [0, 1).');
  }
  return v;
}

/** A resumed run keeps its data and its folder: --classes, --limit and --out must match them. */
function refuseDataChanges(flags: GanFlags, saved: DataOptions, runDir: string): void {
  const given: [string, unknown, unknown][] = [
    ['--classes', flags.classes, saved.classes ?? 'all'],
    ['--limit', flags.limit, saved.limit],
    ['--out', flags.out && resolve(flags.out), resolve(runDir)],
  ];
  for (const [flag, value, was] of given) {
    if (value !== undefined && value !== was) {
      throw resumeChangeError(flags.resume!, flag, value, was);
    }
  }
}

export function ganCommand(ctx: CliContext): Command {
  const cmd = new Command('gan').description(
    'train a GAN on MNIST whose generator uses VBN (or bn, none); writes config.json, metrics.jsonl, sample grids, curves and checkpoints to --out',
  );
  ganFlags(cmd);
  runtimeFlags(cmd);
  cmd.action(async (flags: GanFlags) => {
    if (flags.data !== undefined && flags.data !== 'mnist') {
      throw new VbnError(
        `--data ${flags.data}: vbn gan trains on 'mnist' only (its metrics use an MNIST classifier)`,
      );
    }
    let dataOptions: DataOptions = {
      data: 'mnist',
      classes: flags.classes ?? 'all',
      limit: flags.limit,
      seed: flags.seed,
    };
    let resumeFrom: string | undefined;
    let outDir = flags.out;
    if (flags.resume) {
      resumeFrom = resolveCheckpointDir(flags.resume, 'last');
      const meta = readCheckpoint<GanCheckpointMeta>(resumeFrom).meta;
      if (meta.kind !== 'gan') {
        throw new VbnError(`--resume ${flags.resume}: not a GAN run (written by vbn train)`);
      }
      dataOptions = meta.data;
      outDir = dirname(resumeFrom);
      refuseDataChanges(flags, meta.data, outDir);
    }
    outDir ??= join('runs', `gan-${timestamp()}`);
    const fallbacks: string[] = [];
    const backend = await useBackend(flags.backend, (l) => fallbacks.push(l), {
      threads: flags.threads,
    });
    const data = loadData(dataOptions);
    const progress = ganProgress(Boolean(flags.quiet));
    if (!flags.quiet) {
      ctx.out(
        `data: ${data.description}; backend ${backend}${fallbacks.length ? ` (${fallbacks.join('; ')})` : ''}; output ${outDir}`,
      );
    }
    const config: Partial<GanTrainConfig> = {
      norm: flags.norm,
      mode: flags.mode,
      latentDim: flags.latentDim,
      codes: flags.codes,
      labelWeight: flags.labelWeight,
      generatorFilters: flags.filters,
      discriminatorFilters: flags.dFilters,
      kernelSize: flags.kernelSize,
      outputStride: flags.outputStride,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      referenceSize: flags.referenceSize,
      lr: flags.lr,
      dLr: flags.dLr,
      lrDecay: flags.lrDecay,
      beta1: flags.beta1,
      seed: flags.seed,
      evalSamples: flags.evalSamples,
      checkpointEvery: flags.checkpointEvery,
    };
    const summary = await trainGan(data, {
      config: Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
      dataOptions,
      outDir,
      resumeFrom,
      backend,
      hooks: {
        ...progress,
        ...commandHooks(ctx, progress, flags.plots ? (s) => writeGanCurves(outDir, s) : null),
      },
    });
    progress.stop();
    if (summary.interrupted) {
      noteInterrupted(ctx, 'gan', summary.steps, outDir);
    } else if (!flags.quiet && summary.last) {
      ctx.out(
        `classifier score ${summary.last.classifierScore.toFixed(3)}, Fréchet distance ${summary.last.frechetDistance.toFixed(3)} after ${summary.epochs} epochs, ${summary.steps} steps, ${summary.seconds.toFixed(1)} s training; samples and checkpoints in ${outDir} (full metrics: npx vbn gan-eval --checkpoint ${outDir})`,
      );
    }
    if (flags.json) printJson(ctx, { ...summary, backend });
    if (summary.interrupted) ctx.setExitCode(130);
  });
  return cmd;
}
