import { Command } from 'commander';
import { BACKEND_CHOICES } from '../backend/node/select.js';
import { shownDefault, type Schema } from '../options/schema.js';
import { choice, fraction, integer, parserOf } from './parse.js';

/** What `--help` shows as a data flag's default, by option name (DATA_DEFAULTS). */
export type FlagDefaults = Partial<Record<string, string | number | boolean | readonly number[]>>;

const shown = (d: FlagDefaults, key: string): string => {
  const v = d[key];
  if (v === undefined) return '';
  return ` (default: ${Array.isArray(v) ? v.join(',') : String(v)})`;
};

/**
 * The commander options of a schema: each option's flag, help with its default, and a parser
 * that refuses a bad value with the rule's `expected` (exit 2).
 */
export function addOptions(cmd: Command, schema: Schema): Command {
  for (const o of Object.values(schema)) {
    const d = o.flag.includes('<') ? shownDefault(o) : undefined;
    const help = `${o.help}${d === undefined ? '' : ` (default: ${d})`}`;
    if (o.flag.includes('<')) cmd.option(o.flag, help, parserOf(o.rule));
    else cmd.option(o.flag, help);
  }
  return cmd;
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

export function runtimeFlags(cmd: Command): Command {
  return cmd
    .option('--backend <name>', BACKEND_CHOICES.join('|'), choice(BACKEND_CHOICES), 'auto')
    .option('--threads <n>', 'threads of the native engine (default: all cores)', integer(1))
    .option('--json', 'print a JSON summary as the last stdout line')
    .option('--debug', 'show stack traces');
}
