import { VbnError } from '../errors.js';
import {
  defaultsOf,
  flagName,
  resolveOptions,
  resumableKeys,
  type Schema,
  type Values,
} from '../options/schema.js';
import { TRAIN_OPTIONS } from './options.js';

export { TRAIN_OPTIONS };

/**
 * Everything that defines a training run besides its data, derived from TRAIN_OPTIONS (one field
 * per option; its help says what it is). Saved in config.json and checkpoints.
 */
export type TrainConfig = Values<typeof TRAIN_OPTIONS>;

/** Training defaults, from TRAIN_OPTIONS; lr's depends on the optimizer (DEFAULT_LR). */
export const TRAIN_DEFAULTS = defaultsOf(TRAIN_OPTIONS) as Omit<TrainConfig, 'lr'>;

/** Applies the defaults and validates every field; a refusal names the flag. */
export function resolveTrainConfig(partial: Partial<TrainConfig>): TrainConfig {
  return resolveOptions(TRAIN_OPTIONS, partial, 'vbn train');
}

/** Settings a resumed run may change (TRAIN_OPTIONS' `resumable`): they alter neither the network, the data nor the optimizer. */
export const RESUMABLE: readonly (keyof TrainConfig)[] = resumableKeys(TRAIN_OPTIONS);

/** The flag of a config field: checkpointEvery -> --checkpoint-every. */
export const flagOf = (field: string): string =>
  `--${field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The one error of a resumed run asked to change what it keeps. */
export function resumeChangeError(
  resume: string,
  flag: string,
  value: unknown,
  was: unknown,
): VbnError {
  return new VbnError(
    `--resume ${resume}: ${flag} ${String(value)} would change the run, which has ${flag} ${String(was ?? 'unset')} (a resumed run keeps its network, data and optimizer; start a new run with --out to change it)`,
  );
}

/**
 * `saved` with the fields of `given` that `schema` marks resumable. Any other field of `given`
 * that differs from the saved value is refused with the schema's flag: a resumed run keeps its
 * network, data order and optimizer. Shared by `vbn train` and `vbn gan`.
 */
export function mergeResumed<T extends object>(
  saved: T,
  given: Partial<T>,
  runDir: string,
  schema: Schema,
): T {
  const out = { ...saved };
  for (const [field, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const key = field as keyof T;
    const o = schema[field];
    if (o?.resumable) {
      Object.assign(out, { [key]: value });
    } else if (!same(value, saved[key])) {
      throw resumeChangeError(runDir, o ? flagName(o) : flagOf(field), value, saved[key]);
    }
  }
  return out;
}

/** The configuration of a resumed `vbn train` run; `--epochs N` means N epochs in total. */
export function resumeConfig(
  saved: TrainConfig,
  given: Partial<TrainConfig>,
  runDir: string,
): TrainConfig {
  return resolveTrainConfig(mergeResumed(saved, given, runDir, TRAIN_OPTIONS));
}
