/** What test/browser/harness.ts exposes as `globalThis.harness` in the page (checked on both sides). */
export interface AgreementResult {
  rows: { stage: string; ok: boolean; relNorm: number; message: string }[];
  /** 'backend compared check' of every agreement row. */
  stages: string[];
  parameterNames: readonly string[];
}

export interface TrainResult {
  backend: string;
  losses: number[];
  /** Tensors alive after minus before. */
  leaked: number;
}

/** The differentiability contract on one backend (test/support/contract.ts). */
export interface ContractResult {
  /** item -> name -> ||backend - cpu|| / ||cpu|| (cpu: against float64); Infinity where missing. */
  errors: Record<string, Record<string, number>>;
  /** tf.variableGrads items: the norm of the reference's gradient (0 under stopReferenceGradient). */
  referenceNorms: Record<string, number>;
  /** model.fit: how far each layer's weights moved, `layer{i}/{j}`. */
  moved: Record<string, number>;
}

export interface HarnessApi {
  /** The engine right after `import 'vbn'`: active backend and registered backends. */
  afterImport: { backendName: string | null; registered: string[] };
  agreement(backend: string, tolerance: number): Promise<AgreementResult>;
  /** Agreement rows when the network is 0.1% off on `backend` (a planted kernel bug). */
  plantedBackendBug(backend: string): Promise<{ check: string; compared: string; ok: boolean }[]>;
  train(backend: string, steps: number): Promise<TrainResult>;
  contract(backend: string): Promise<ContractResult>;
  /** ms of each timed training step of the page's session (28x28, reference = batch). */
  timeSteps(backend: string, filters: number[], batch: number, steps: number): Promise<number[]>;
  useBackend(name: string): Promise<string>;
}

/** The page's global object as `page.evaluate` callbacks see it (the cast is erased in the page). */
export type Harnessed = { harness: HarnessApi };
