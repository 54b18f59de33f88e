import { checkRule, type Rule } from '../vbn/validate.js';

/**
 * One option of a configuration, declared once: its flag, rule, default, help and whether a
 * resumed run may change it. The config's type, defaults, resolver, commander options, `--help`
 * defaults, resume merge and child-process arguments are all derived from these declarations.
 */
export interface Option<T> {
  /** The command-line flag: '--filters <list>', or '--profile' for a switch. */
  readonly flag: string;
  /** What a value must be (vbn/validate.ts): checks library values and reads flag values. */
  readonly rule: Rule<T>;
  /**
   * The default. A function gets the options resolved so far (the learning rate depends on the
   * optimizer); it is evaluated after every plain default. Absent: the option is required.
   */
  readonly default?: NoInfer<T> | ((resolved: Readonly<Record<string, unknown>>) => NoInfer<T>);
  /** What `--help` shows as the default when `default` is a function. */
  readonly shownDefault?: string;
  /** One line for `--help`. */
  readonly help: string;
  /** A resumed run may change it (it alters neither the networks, the data nor the optimizer). */
  readonly resumable?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of options of any value type
export type Schema = Readonly<Record<string, Option<any>>>;

/** The value type of an option. */
export type ValueOf<O> = O extends Option<infer T> ? T : never;
/** The resolved configuration a schema describes. */
export type Values<S extends Schema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Declares an option (a function only so that TypeScript infers the value type). */
export const option = <T>(o: Option<T>): Option<T> => o;

/** '--filters <list>' -> '--filters'. */
export const flagName = (o: Option<unknown>): string => o.flag.split(/[ ,]/)[0];

/** The property commander stores a flag under: '--d-filters <list>' -> 'dFilters'. */
export const attributeOf = (o: Option<unknown>): string =>
  flagName(o)
    .replace(/^--/, '')
    .replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A value as the command line and the messages write it: lists as 16,32,64. */
export const formatValue = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

/** The entries of `schema` (or of a configuration) named in `keys`, in that order. */
export function pick<S extends object, K extends keyof S>(
  schema: S,
  keys: readonly K[],
): Pick<S, K> {
  return Object.fromEntries(keys.map((k) => [k, schema[k]])) as Pick<S, K>;
}

/** `schema` with other defaults (a command that shows its own, like `vbn check`'s small network). */
export function withDefaults<S extends Schema>(
  schema: S,
  defaults: Partial<{ [K in keyof S]: ValueOf<S[K]> }>,
): S {
  const out: Record<string, Option<unknown>> = { ...schema };
  for (const [k, d] of Object.entries(defaults)) {
    if (k in out && d !== undefined) out[k] = { ...out[k], default: d };
  }
  return out as S;
}

/** The plain (non-computed) defaults of a schema. */
export function defaultsOf<S extends Schema>(schema: S): Partial<Values<S>> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(schema)) {
    if (o.default !== undefined && typeof o.default !== 'function') {
      out[k] = Array.isArray(o.default) ? [...(o.default as unknown[])] : o.default;
    }
  }
  return out as Partial<Values<S>>;
}

/** The default `--help` shows, or undefined when there is none. */
export function shownDefault(o: Option<unknown>): string | undefined {
  if (o.shownDefault !== undefined) return o.shownDefault;
  if (o.default === undefined || typeof o.default === 'function') return undefined;
  return formatValue(o.default);
}

/** The fields a resumed run may change. */
export function resumableKeys<S extends Schema>(schema: S): (keyof S)[] {
  return Object.keys(schema).filter((k) => schema[k].resumable === true);
}

/**
 * Applies the defaults to what `given` leaves undefined and checks every value against its rule;
 * a refusal reads `fn: --flag must be <rule> but is <value>` (or `fn: field ...` for a library
 * config, naming 'field'). Keys outside the schema are dropped.
 */
export function resolveOptions<S extends Schema>(
  schema: S,
  given: Partial<Values<S>>,
  fn: string,
  naming: 'flag' | 'field' = 'flag',
): Values<S> {
  const out: Record<string, unknown> = {};
  const computed: string[] = [];
  const g = given as Record<string, unknown>;
  const name = (k: string) => (naming === 'flag' ? flagName(schema[k]) : k);
  for (const [k, o] of Object.entries(schema)) {
    if (g[k] === undefined && typeof o.default === 'function') computed.push(k);
    else out[k] = checkRule(fn, name(k), g[k] ?? o.default, o.rule);
  }
  for (const k of computed) {
    const compute = schema[k].default as (r: typeof out) => unknown;
    out[k] = checkRule(fn, name(k), compute(out), schema[k].rule);
  }
  return out as Values<S>;
}

/** Command-line arguments that give `values` (a child process's): ['--filters', '16,32,64', ...]. */
export function toArgs<S extends Schema>(schema: S, values: Partial<Values<S>>): string[] {
  const args: string[] = [];
  for (const [k, o] of Object.entries(schema)) {
    const v = (values as Record<string, unknown>)[k];
    if (v === undefined || v === false) continue;
    args.push(flagName(o));
    if (v !== true) args.push(formatValue(v));
  }
  return args;
}

/** The values a user set: commander's parsed options, by schema key (undefined where unset). */
export function givenValues<S extends Schema>(schema: S, parsed: object): Partial<Values<S>> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(schema)) {
    const v = (parsed as Record<string, unknown>)[attributeOf(o)];
    if (v !== undefined) out[k] = v;
  }
  return out as Partial<Values<S>>;
}
