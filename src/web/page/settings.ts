import { VbnError } from '../../errors.js';
import type { Strategy } from '../../model/config.js';
import type { VbnMode } from '../../vbn/options.js';
import type { BrowserBackendName } from '../../backend/select-browser.js';

/** What the page's form sets. Defaults live in PAGE_DEFAULTS. */
export interface PageSettings {
  backend: BrowserBackendName;
  strategy: Strategy;
  mode: VbnMode;
  /** Digits to tell apart, in order (label i is classes[i]). */
  classes: number[];
  filters: number[];
  batchSize: number;
  referenceSize: number;
  lr: number;
  /** Training images used (the first ones of the chosen classes). */
  trainImages: number;
  /** Validation images (MNIST's test split) evaluated after every epoch. */
  valImages: number;
  seed: number;
}

export const PAGE_DEFAULTS = {
  strategy: 'concat',
  mode: 'virtual',
  classes: [3, 5],
  filters: [8, 16, 32],
  batchSize: 32,
  referenceSize: 32,
  lr: 0.001,
  trainImages: 2048,
  valImages: 500,
  seed: 0,
} as const;

/** The network every page run trains (filters and mode come from the settings). */
export const PAGE_NET = { inputShape: [28, 28, 1], kernelSize: 3, strides: 2 } as const;

function count(name: string, raw: string, min: number): number {
  const v = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(v) || v < min) {
    throw new VbnError(`${name}: expected an integer >= ${min}, got '${raw}'`);
  }
  return v;
}

/** Form values (strings) -> settings; a VbnError names the field, the value and what was expected. */
export function parseSettings(form: Record<string, string>, digits: number[]): PageSettings {
  if (digits.length < 2) {
    throw new VbnError(
      `classes: choose at least two digits to tell apart (chosen: ${digits.length ? digits.join(',') : 'none'})`,
    );
  }
  const filters = form.filters.split(',').map((s) => count('filters', s, 1));
  const lr = Number(form.lr);
  if (!(Number.isFinite(lr) && lr > 0)) {
    throw new VbnError(`learning rate: expected a positive number, got '${form.lr}'`);
  }
  return {
    backend: form.backend as BrowserBackendName,
    strategy: form.strategy as Strategy,
    mode: form.mode as VbnMode,
    classes: digits,
    filters,
    batchSize: count('batch size', form.batchSize, 1),
    referenceSize: count('reference size', form.referenceSize, 1),
    lr,
    trainImages: count('training images', form.trainImages, 1),
    valImages: count('validation images', form.valImages, 1),
    seed: count('seed', form.seed, 0),
  };
}
