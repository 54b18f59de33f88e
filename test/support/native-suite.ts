import * as tf from '@tensorflow/tfjs-core';
import { describeRequiring } from './describe-requiring.js';
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
  describeRequiring('the native engine', NATIVE_PROBLEM, 'VBN_REQUIRE_NATIVE', name, body);
}
