import { Command } from 'commander';
import { STRATEGIES } from '../model/config.js';
import { LOSSES } from '../train/losses.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import { VBN_MODES } from '../vbn/options.js';
import { BACKEND_CHOICES } from '../backend/select.js';
import { choice, fraction, intList, integer, positiveNumber } from './parse.js';

/** Flags shared by train, check and bench, added in one place. */
export function networkFlags(cmd: Command): Command {
  return cmd
    .option('--filters <list>', 'filters of each conv -> VBN -> ReLU block', intList)
    .option('--kernel-size <n>', 'conv kernel size', integer(1))
    .option('--strides <n>', 'conv stride', integer(1))
    .option('--padding <p>', "'valid' or 'same'", choice(['valid', 'same'] as const))
    .option('--mode <mode>', 'VBN mode: virtual or reference', choice(VBN_MODES))
    .option('--epsilon <e>', 'VBN epsilon', positiveNumber)
    .option('--stop-reference-gradient', 'no gradient through the reference statistics')
    .option('--strategy <s>', 'concat or two-pass', choice(STRATEGIES))
    .option('--batch-size <n>', 'input examples per step', integer(1))
    .option('--reference-size <n>', 'reference batch size N', integer(1))
    .option('--seed <n>', 'random seed', integer(0));
}

export function dataFlags(cmd: Command): Command {
  return cmd
    .option('--data <source>', "'mnist', a folder of class folders of PNGs, or x.npy,y.npy")
    .option('--classes <list>', "MNIST digits: 'all' or a comma list like 3,5")
    .option('--image-size <n>', 'resize images to N x N', integer(1))
    .option('--val-fraction <f>', 'validation share (MNIST: its test split when unset)', fraction)
    .option('--limit <n>', 'use at most N training examples', integer(1));
}

export function trainingFlags(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'epochs', integer(1))
    .option('--optimizer <name>', OPTIMIZERS.join('|'), choice(OPTIMIZERS))
    .option('--lr <rate>', 'learning rate', positiveNumber)
    .option('--loss <name>', LOSSES.join('|'), choice(LOSSES));
}

export function runtimeFlags(cmd: Command): Command {
  return cmd
    .option('--backend <name>', BACKEND_CHOICES.join('|'), choice(BACKEND_CHOICES), 'auto')
    .option('--threads <n>', 'threads of the native engine (default: all cores)', integer(1))
    .option('--json', 'print a JSON summary as the last stdout line')
    .option('--debug', 'show stack traces');
}
