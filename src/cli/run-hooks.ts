import type { CliContext } from './context.js';

/**
 * What `vbn train` and `vbn gan` add to their progress hooks: after each epoch the progress line,
 * then the curves (`writePlots`, null with --no-plots); a stop once SIGINT/SIGTERM arrived.
 */
export function commandHooks<M, S>(
  ctx: CliContext,
  progress: { onEpoch?(m: M, s: S): void | Promise<void> },
  writePlots: ((s: S) => Promise<void>) | null,
): { onEpoch(m: M, s: S): Promise<void>; shouldStop(): boolean } {
  return {
    async onEpoch(m, s) {
      await progress.onEpoch?.(m, s);
      if (writePlots) await writePlots(s);
    },
    shouldStop: () => ctx.stopRequested(),
  };
}

/** Said even with --quiet: the run did not finish, and how to continue it. */
export function noteInterrupted(
  ctx: CliContext,
  command: 'train' | 'gan',
  steps: number,
  outDir: string,
): void {
  ctx.note(`stopped after step ${steps}; resume with: npx vbn ${command} --resume ${outDir}`);
}
