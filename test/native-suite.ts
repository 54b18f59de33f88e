import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { useBackend } from 'vbn';

/**
 * Native test suites run where the oneDNN engine loads. Elsewhere they are skipped, unless
 * VBN_REQUIRE_NATIVE=1 (CI sets it): then an unavailable engine fails the run with the reason.
 */
export const NATIVE_PROBLEM: string | null = await useBackend('native').then(
  () => null,
  (e: Error) => e.message,
);
await tf.setBackend('cpu');

export function describeNative(name: string, body: () => void): void {
  if (NATIVE_PROBLEM === null) {
    describe(name, body);
  } else if (process.env.VBN_REQUIRE_NATIVE === '1') {
    describe(name, () => {
      it('needs the native engine (VBN_REQUIRE_NATIVE=1)', () => {
        throw new Error(`the native engine is unavailable: ${NATIVE_PROBLEM}`);
      });
    });
  } else {
    describe.skip(name, body);
  }
}
