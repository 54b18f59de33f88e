/** What commands need from the process, passed explicitly (no globals). */
export interface CliContext {
  /** A line to stdout. */
  out(line: string): void;
  /** A note to stderr (fallbacks, warnings). */
  note(line: string): void;
  /** True once SIGINT/SIGTERM arrived. */
  stopRequested(): boolean;
  /** What the first Ctrl-C says (default: the training loop's 'stopping after this step'). */
  setStopNote(line: string): void;
  setExitCode(code: number): void;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value));
}
