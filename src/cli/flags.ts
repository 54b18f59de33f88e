import { Command } from 'commander';
import { STRATEGIES, PADDINGS } from '../model/config.js';
import { LOSSES } from '../train/losses.js';
import { DEFAULT_LR, OPTIMIZERS } from '../train/optimizers.js';
import { VBN_MODES } from '../vbn/options.js';
import { BACKEND_CHOICES } from '../backend/node/select.js';
import { choice, fraction, intList, integer, positiveNumber } from './parse.js';

/**
 * What `--help` shows as each flag's default, by option name. The values come from the command's
 * own defaults object (TRAIN_DEFAULTS, the check's or the bench's), never written here.
 */
export type FlagDefaults = Partial<Record<string, string | number | boolean | readonly number[]>>;

const shown = (d: FlagDefaults, key: string): string => {
  const v = d[key];
  if (v === undefined) return '';
  return ` (default: ${Array.isArray(v) ? v.join(',') : String(v)})`;
};

/** Flags shared by train, check and bench, added in one place. */
export function networkFlags(cmd: Command, d: FlagDefaults = {}): Command {
  return cmd
    .option(
      '--filters <list>',
      `filters of each conv -> VBN -> ReLU block${shown(d, 'filters')}`,
      intList,
    )
    .option('--kernel-size <n>', `conv kernel size${shown(d, 'kernelSize')}`, integer(1))
    .option('--strides <n>', `conv stride${shown(d, 'strides')}`, integer(1))
    .option('--padding <p>', `'valid' or 'same'${shown(d, 'padding')}`, choice(PADDINGS))
    .option('--mode <mode>', `VBN mode: virtual or reference${shown(d, 'mode')}`, choice(VBN_MODES))
    .option('--epsilon <e>', `VBN epsilon${shown(d, 'epsilon')}`, positiveNumber)
    .option('--stop-reference-gradient', 'no gradient through the reference statistics')
    .option('--strategy <s>', `concat or two-pass${shown(d, 'strategy')}`, choice(STRATEGIES))
    .option('--batch-size <n>', `input examples per step${shown(d, 'batchSize')}`, integer(1))
    .option(
      '--reference-size <n>',
      `reference batch size N${shown(d, 'referenceSize')}`,
      integer(1),
    )
    .option('--seed <n>', `random seed${shown(d, 'seed')}`, integer(0));
}

export function dataFlags(cmd: Command, d: FlagDefaults = {}): Command {
  return cmd
    .option(
      '--data <source>',
      `'mnist', a folder of class folders of PNGs, or x.npy,y.npy${shown(d, 'data')}`,
    )
    .option(
      '--classes <list>',
      `MNIST digits: 'all' or a comma list like 3,5${shown(d, 'classes')}`,
    )
    .option('--image-size <n>', 'resize images to N x N (default: keep their size)', integer(1))
    .option(
      '--val-fraction <f>',
      'validation share (default: MNIST its test split, other data 0.2)',
      fraction,
    )
    .option('--limit <n>', 'use at most N training examples (default: all)', integer(1));
}

const lrDefaults = OPTIMIZERS.map((o) => `${o} ${DEFAULT_LR[o]}`).join(', ');

export function trainingFlags(cmd: Command, d: FlagDefaults = {}): Command {
  return cmd
    .option('--epochs <n>', `epochs${shown(d, 'epochs')}`, integer(1))
    .option(
      '--optimizer <name>',
      `${OPTIMIZERS.join('|')}${shown(d, 'optimizer')}`,
      choice(OPTIMIZERS),
    )
    .option('--lr <rate>', `learning rate (default: ${lrDefaults})`, positiveNumber)
    .option('--loss <name>', `${LOSSES.join('|')}${shown(d, 'loss')}`, choice(LOSSES));
}

export function runtimeFlags(cmd: Command): Command {
  return cmd
    .option('--backend <name>', BACKEND_CHOICES.join('|'), choice(BACKEND_CHOICES), 'auto')
    .option('--threads <n>', 'threads of the native engine (default: all cores)', integer(1))
    .option('--json', 'print a JSON summary as the last stdout line')
    .option('--debug', 'show stack traces');
}
