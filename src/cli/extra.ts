import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** Commands added by later parts (check, predict, bench). */
export function extraCommands(_ctx: CliContext): Command[] {
  return [];
}
