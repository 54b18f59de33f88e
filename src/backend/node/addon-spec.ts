/**
 * The native addon's entry points and their named arguments: the one table that the addon's
 * TypeScript type (NativeAddon below), the C++ reading (native/src/addon-spec.h, generated from
 * this table by `node scripts/gen-addon-spec.mjs`; a test checks it is current) and the fuzz
 * fixture (test/fixtures/native-fuzz.mjs) derive from.
 *
 * Each entry takes one object of named arguments. An argument's kind names the C++ `Args` method
 * that reads it (native/src/args.cc), which refuses a read of another kind; after reading, an
 * entry point refuses to run when it left an argument of this table unread.
 * Shapes are NHWC / HWIO, `[rows, S, C]` views of channels-last tensors as in vbn.cc.
 */
export const ARG_KINDS = [
  'floats',
  'optionalFloats',
  'integer',
  'optionalInteger',
  'positive',
  'number',
  'flag',
  'dims',
] as const;
export type ArgKind = (typeof ARG_KINDS)[number];
/** A kind, or a kind that only some calls pass (`when` says which): optional in TypeScript. */
export type ArgSpec = ArgKind | { kind: ArgKind; when: string };

const conv = {
  strides: 'dims',
  padL: 'dims',
  padR: 'dims',
  dilations: 'dims',
  /** 0 (or left out) automatic, 1 oneDNN direct, 2 Winograd F(2x2, 3x3). */
  algorithm: 'optionalInteger',
} as const;
const rowView = { rows: 'integer', spatial: 'integer', channels: 'integer' } as const;
const meanPair = { meanHi: 'floats', meanLo: 'floats' } as const;
const normalizeParams = {
  varR: 'floats',
  gamma: 'optionalFloats',
  beta: 'optionalFloats',
  rowWeights: 'floats',
  epsilon: 'positive',
} as const;
const recompute = (kind: ArgKind) => ({ kind, when: 'out is null' }) as const;

export const ADDON_SPEC = {
  setThreads: { n: 'integer' },
  info: {},
  keepFreedMemory: {},
  /** activation 0 linear, 1 relu, 2 relu6. */
  conv2d: {
    x: 'floats',
    xShape: 'dims',
    w: 'floats',
    wShape: 'dims',
    out: 'floats',
    outShape: 'dims',
    bias: 'optionalFloats',
    activation: 'integer',
    ...conv,
  },
  conv2dBackpropInput: {
    dy: 'floats',
    dyShape: 'dims',
    w: 'floats',
    wShape: 'dims',
    dx: 'floats',
    dxShape: 'dims',
    ...conv,
  },
  conv2dBackpropFilter: {
    x: 'floats',
    xShape: 'dims',
    dy: 'floats',
    dyShape: 'dims',
    dw: 'floats',
    dwShape: 'dims',
    ...conv,
  },
  /** a [batchA, m, k] (or [batchA, k, m] transposed) times b [batchB, k, n]; activation 0 or 1. */
  matmul: {
    a: 'floats',
    batchA: 'integer',
    b: 'floats',
    batchB: 'integer',
    out: 'floats',
    m: 'integer',
    k: 'integer',
    n: 'integer',
    transA: 'flag',
    transB: 'flag',
    bias: 'optionalFloats',
    activation: 'integer',
  },
  /** x [B, S, C]: the statistics of its first `rows` rows. */
  vbnStats: { x: 'floats', ...rowView, ...meanPair, variance: 'floats' },
  vbnStatsGrad: {
    x: 'floats',
    ...rowView,
    ...meanPair,
    dMean: 'floats',
    dVar: 'floats',
    dx: 'floats',
  },
  /** rowStats [rows, 2, C]: each row's (dm, inv). */
  vbnNormalize: {
    x: 'floats',
    ...rowView,
    ...meanPair,
    ...normalizeParams,
    relu: 'flag',
    out: 'floats',
    rowStats: 'floats',
  },
  /** The mean over S of ReLU(vbnNormalize(x)) for rows fromRow..: out [rows - fromRow, C]. */
  vbnNormalizePool: {
    x: 'floats',
    ...rowView,
    ...meanPair,
    ...normalizeParams,
    out: 'floats',
    fromRow: 'integer',
  },
  /**
   * out null: the ReLU mask recomputed from x (needs varR, beta, epsilon; rowStats may be null).
   * pooledFrom f: dy is `[rows - f, C]`, the gradient of the spatial mean of rows f..
   */
  vbnNormalizeGrad: {
    dy: 'floats',
    x: 'floats',
    out: 'optionalFloats',
    ...rowView,
    ...meanPair,
    gamma: 'optionalFloats',
    rowWeights: 'floats',
    rowStats: 'optionalFloats',
    relu: 'flag',
    dx: 'floats',
    dMean: 'floats',
    dVarR: 'floats',
    dGamma: 'floats',
    dBeta: 'floats',
    statsRows: 'integer',
    dMeanExt: 'optionalFloats',
    dVarExt: 'optionalFloats',
    pooledFrom: 'optionalInteger',
    varR: recompute('floats'),
    beta: recompute('optionalFloats'),
    epsilon: recompute('positive'),
  },
  spatialMean: { x: 'floats', ...rowView, out: 'floats', fromRow: 'integer' },
  spatialMeanGrad: { dy: 'floats', ...rowView, dx: 'floats', fromRow: 'integer' },
  /**
   * out = a op b, op an index of BINARY_OPS; out has n elements, a and b each n, one, or a divisor
   * of n (the trailing dimensions: element i reads i % length), at least one of them n.
   */
  binary: { op: 'integer', a: 'floats', b: 'floats', out: 'floats' },
  /** out = op(x), op an index of UNARY_OPS (alpha: LeakyRelu's slope, Step's value at x <= 0). */
  unary: { op: 'integer', x: 'floats', out: 'floats', alpha: 'number' },
  /** TensorFlow.js' Adam update of one variable (src/backend/fused-adam.ts), all of one length. */
  adam: {
    value: 'floats',
    m: 'floats',
    v: 'floats',
    grad: 'floats',
    newValue: 'floats',
    newM: 'floats',
    newV: 'floats',
    beta1: 'number',
    beta2: 'number',
    learningRate: 'positive',
    epsilon: 'positive',
    correction1: 'positive',
    correction2: 'positive',
  },
  /** `rounds` rounds of 10 vector FMA chains per thread. */
  fmaPeak: { rounds: 'integer' },
} as const satisfies Record<string, Record<string, ArgSpec>>;

export type AddonEntry = keyof typeof ADDON_SPEC;

/** binary's and unary's `op`: an index into these (native/src/elementwise.cc switches on it). */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;
export const UNARY_OPS = ['leakyRelu', 'step'] as const;

/** The fp32 fused multiply-add throughput of this machine at a thread count. */
export interface FmaCeiling {
  gflops: number;
  threads: number;
  /** The vector instructions measured, e.g. `AVX2 FMA`. */
  isa: string;
}
export interface EngineInfo {
  onednn: string;
  threads: number;
  cachedPrimitives: number;
  /** The engine's kernels: 'avx512' where the CPU has it unless VBN_ISA=avx2 (native/src/isa.h). */
  isa: 'avx2' | 'avx512';
}
/** What the entries that return something return; the others return nothing. */
interface Returns {
  setThreads: number;
  info: EngineInfo;
  keepFreedMemory: boolean;
  fmaPeak: FmaCeiling & { seconds: number };
}

interface KindTypes {
  floats: Float32Array;
  optionalFloats: Float32Array | null;
  integer: number;
  optionalInteger: number;
  positive: number;
  number: number;
  flag: boolean;
  dims: readonly number[];
}
type KindOf<S> = S extends ArgKind ? S : S extends { kind: infer K extends ArgKind } ? K : never;
/** Arguments a call may leave out: optional kinds and those only some calls pass. */
type Omissible<S> = S extends 'optionalFloats' | 'optionalInteger' | { when: string }
  ? true
  : false;
type ArgsOf<E extends Record<string, ArgSpec>> = {
  [N in keyof E as Omissible<E[N]> extends true ? never : N]: KindTypes[KindOf<E[N]>];
} & {
  [N in keyof E as Omissible<E[N]> extends true ? N : never]?: KindTypes[KindOf<E[N]>];
};
type Result<E> = E extends keyof Returns ? Returns[E] : void;

/** The addon: each entry takes its named arguments (none for the argument-free ones). */
export type NativeAddon = {
  [E in AddonEntry]: keyof (typeof ADDON_SPEC)[E] extends never
    ? () => Result<E>
    : (args: ArgsOf<(typeof ADDON_SPEC)[E]>) => Result<E>;
};

/** An argument's kind, whether given as a kind or with `when`. */
export function kindOf(spec: ArgSpec): ArgKind {
  return typeof spec === 'string' ? spec : spec.kind;
}
