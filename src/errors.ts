/**
 * Errors a user can fix: bad shapes, bad options, bad files, bad flags.
 * The CLI prints `message` alone (no stack) and exits with `exitCode`.
 */
export class VbnError extends Error {
  /** Process exit code the CLI uses for this error (2: bad input or usage). */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'VbnError';
    this.exitCode = exitCode;
  }
}

/** Formats a shape the way every message in vbn does: `[2,3,3,5]`. */
export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
