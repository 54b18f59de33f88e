import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { loadData } from '../data/node/load.js';
import { VbnError } from '../errors.js';
import { STRATEGIES, type Strategy } from '../model/config.js';
import { evaluate } from '../train/evaluate.js';
import { printJson, type CliContext } from './context.js';
import { dataFlags, runtimeFlags } from './flags.js';
import { loadModel } from '../train/node/load-model.js';
import { choice } from './parse.js';

export function evalCommand(ctx: CliContext): Command {
  const cmd = new Command('eval').description(
    'evaluate a checkpoint on the validation split of its data (or of --data)',
  );
  cmd
    .requiredOption(
      '--checkpoint <dir>',
      'a checkpoint folder, or a run folder (its last checkpoint)',
    )
    .option('--best', "use the run folder's best checkpoint instead of the last")
    .option(
      '--strategy <s>',
      'concat or two-pass (default: the one it was trained with)',
      choice(STRATEGIES),
    );
  dataFlags(cmd);
  runtimeFlags(cmd);
  cmd.action(async (flags: Record<string, unknown>) => {
    const backend = await useBackend(flags.backend as BackendChoice, undefined, {
      threads: flags.threads as number | undefined,
    });
    const model = loadModel(flags.checkpoint as string, flags.best ? 'best' : 'last');
    const saved = model.meta.data;
    const override = <T>(k: string, v: T | undefined): T | undefined => (flags[k] as T) ?? v;
    const data = loadData({
      data: override('data', saved.data),
      classes: override('classes', saved.classes),
      imageSize: override('imageSize', saved.imageSize),
      valFraction: override('valFraction', saved.valFraction),
      seed: saved.seed,
    });
    const val = data.val;
    if (val.shape.join(',') !== model.meta.inputShape.join(',')) {
      throw new VbnError(
        `--data: images are ${val.shape.join('x')} but the checkpoint expects ${model.meta.inputShape.join('x')} (use --image-size)`,
      );
    }
    if (val.classNames.length > model.meta.classNames.length) {
      throw new VbnError(
        `--data: labels go up to ${val.classNames.length - 1} but the checkpoint has ${model.meta.classNames.length} classes`,
      );
    }
    const strategy = (flags.strategy as Strategy | undefined) ?? model.meta.config.strategy;
    const t0 = performance.now();
    const ev = evaluate(model.net, model.params, model.reference, val, {
      strategy,
      loss: model.meta.config.loss,
    });
    const seconds = (performance.now() - t0) / 1000;
    tf.dispose([model.reference, ...Object.values(model.params)]);
    ctx.out(
      `${model.dir}: validation accuracy ${(100 * ev.accuracy).toFixed(2)}%, loss ${ev.loss.toFixed(4)} on ${ev.count} examples (${strategy}, ${backend}, ${seconds.toFixed(1)} s)`,
    );
    if (flags.json) {
      printJson(ctx, {
        valAccuracy: ev.accuracy,
        valLoss: ev.loss,
        count: ev.count,
        strategy,
        backend,
        checkpoint: model.dir,
        seconds,
      });
    }
  });
  return cmd;
}
