import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { loadData, type DataOptions } from '../data/node/load.js';
import { VbnError } from '../errors.js';
import { GAN_OPTIONS, resolveGanTrainConfig } from '../gan/config.js';
import { refuseUnfitGan } from './fits.js';
import { writeGanCurves } from '../gan/node/curves.js';
import type { GanCheckpointMeta, GanEpochMetrics } from '../gan/node/run-state.js';
import { trainGan, type GanHooks } from '../gan/node/train-gan.js';
import { readCheckpoint, resolveCheckpointDir } from '../run/node/checkpoint.js';
import { resumeChangeError } from '../train/config.js';
import { printJson, type CliContext } from './context.js';
import { addOptions, runtimeFlags } from './flags.js';
import { givenValues } from '../options/schema.js';
import { commandHooks, noteInterrupted } from './run-hooks.js';
import { integer } from './parse.js';

/** The flags besides GAN_OPTIONS' (read with givenValues). */
interface GanFlags {
  data?: string;
  classes?: string;
  limit?: number;
  seed?: number;
  out?: string;
  resume?: string;
  backend: BackendChoice;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
  plots: boolean;
}

/** `vbn gan` trains on MNIST only. */
const MNIST_SHAPE = [28, 28, 1];

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
  cmd
    .option('--data <source>', "only 'mnist' (the metrics' classifier is an MNIST classifier)")
    .option('--classes <list>', "MNIST digits: 'all' (default) or a comma list like 3,5")
    .option('--limit <n>', 'use at most N training images', integer(1));
  return addOptions(cmd, GAN_OPTIONS)
    .option('--out <dir>', 'output folder (default runs/gan-<time>)')
    .option('--resume <dir>', 'continue the run in DIR from its last complete checkpoint')
    .option('--no-plots', 'do not write curves.png / curves.svg')
    .option('--quiet', 'no progress output');
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
    const config = givenValues(GAN_OPTIONS, flags);
    if (!flags.resume) refuseUnfitGan(config, resolveGanTrainConfig(config), MNIST_SHAPE);
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
    const summary = await trainGan(data, {
      config,
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
