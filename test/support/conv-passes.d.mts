import type { NativeAddon } from '../../src/backend/node/addon-spec.js';
import type { Case } from './conv64.js';

/** y = conv(x, w), and dx, dw of sum(y * dy), by the addon with `algorithm` (conv-passes.mjs). */
export function convPasses(
  addon: NativeAddon,
  c: Case,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  algorithm: number,
): { y: Float32Array; dx: Float32Array; dw: Float32Array };
