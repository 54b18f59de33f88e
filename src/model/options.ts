import { option } from '../options/schema.js';
import { DEFAULT_EPSILON, VBN_MODES } from '../vbn/options.js';
import { BOOLEAN, INT_LIST, POSITIVE, intRule, oneOfRule } from '../vbn/validate.js';

export type Padding = 'valid' | 'same';
export const PADDINGS: readonly Padding[] = ['valid', 'same'];

/**
 * The network's options, each declared once (flag, rule, default, help, resume). `vbn train`,
 * `vbn bench` and `vbn check` take them as flags; createVbnNet resolves them with these defaults.
 * A new network option is declared here and used in the math (model/net.ts); README "Adding an
 * option" lists the rest.
 */
export const NET_OPTIONS = {
  filters: option({
    flag: '--filters <list>',
    rule: INT_LIST,
    default: [16, 32, 64],
    help: 'filters of each conv -> VBN -> ReLU block',
  }),
  kernelSize: option({
    flag: '--kernel-size <n>',
    rule: intRule(1),
    default: 3,
    help: 'conv kernel size',
  }),
  strides: option({ flag: '--strides <n>', rule: intRule(1), default: 1, help: 'conv stride' }),
  padding: option<Padding>({
    flag: '--padding <p>',
    rule: oneOfRule(PADDINGS),
    default: 'valid',
    help: "'valid' or 'same'",
  }),
  mode: option({
    flag: '--mode <mode>',
    rule: oneOfRule(VBN_MODES),
    default: 'virtual',
    help: 'VBN mode: virtual or reference',
  }),
  epsilon: option({
    flag: '--epsilon <e>',
    rule: POSITIVE,
    default: DEFAULT_EPSILON,
    help: 'VBN epsilon',
  }),
  stopReferenceGradient: option({
    flag: '--stop-reference-gradient',
    rule: BOOLEAN,
    default: false,
    help: 'no gradient through the reference statistics',
  }),
} as const;
