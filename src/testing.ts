/**
 * `vbn/testing` (browser-safe): the comparison harness behind `vbn check` and the float64 oracle
 * (a reverse-mode tape, VBN and the whole network written from their definitions).
 */
export {
  compare,
  assertAgree,
  DisagreementError,
  type Agreement,
  type Tolerance,
  type Comparable,
} from './check/compare.js';
export { Tape, leaves, valuesOf, type NodeTensor } from './oracle/tape.js';
export { virtualBatchNorm64, referenceBatchNorm64, type Vbn64Options } from './oracle/vbn64.js';
export { vbnNet64, paramLeaves } from './oracle/net64.js';
export { float64Run, type ParamValues, type CheckData } from './check/float64.js';
export {
  runCheck,
  CHECK_TOLERANCES,
  type CheckOptions,
  type CheckReport,
  type CheckRow,
} from './check/run.js';
export { formatReport, reportJson } from './check/report.js';
export { builtinImplementation, type Implementation } from './check/builtin.js';
export type { ExternalImplementation } from './check/external.js';
export type { AnyImplementation } from './check/evaluate.js';
export { generator64, conv2dTranspose64, dense64, tanh64 } from './oracle/generator64.js';
