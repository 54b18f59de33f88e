import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { predictCommand } from './predict.js';

/** Commands beyond train and eval. */
export function extraCommands(ctx: CliContext): Command[] {
  return [predictCommand(ctx)];
}
