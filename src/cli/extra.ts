import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';
import { predictCommand } from './predict.js';

/** Commands beyond train and eval. */
export function extraCommands(ctx: CliContext): Command[] {
  return [checkCommand(ctx), predictCommand(ctx), benchCommand(ctx)];
}
