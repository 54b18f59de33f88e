import { describe, it } from 'vitest';

/**
 * A suite that needs something this machine may lack (`problem`: why it is missing, or null).
 * It runs where the thing is there; elsewhere it is skipped with one line, unless `requireVar`=1
 * (CI sets it), which makes the missing thing a failure with the reason.
 */
export function describeRequiring(
  what: string,
  problem: string | null,
  requireVar: string,
  name: string,
  body: () => void,
): void {
  if (problem === null) {
    describe(name, body);
  } else if (process.env[requireVar] === '1') {
    describe(name, () => {
      it(`needs ${what} (${requireVar}=1)`, () => {
        throw new Error(`${what} is unavailable: ${problem}`);
      });
    });
  } else {
    console.log(`skipping ${name}: ${problem}`);
    describe.skip(name, body);
  }
}
