import * as tf from '@tensorflow/tfjs-core';
import { availableBackends, useBackend, type BackendName } from '../../backend/node/select.js';
import { VbnError } from '../../errors.js';
import type { VbnNetConfig } from '../../model/config.js';
import { createVbnNet, type VbnNet } from '../../model/net.js';
import { Random } from '../../util/random.js';
import type { CheckData, ParamValues } from '../float64.js';
import { isExternal, type AnyImplementation } from '../evaluate.js';
import { builtinImplementation, loadImplementation } from './implementation.js';
import { startExternal } from './external-worker.js';
import { DEFAULT_WORKER_TIMEOUT, commandSpec, pythonSpec } from './python.js';
import type { CheckOptions } from '../run.js';

export interface CheckSetup {
  /** The built-in network (defaults: 12x12x1 images, filters [4, 8], 2 classes). */
  network?: Partial<VbnNetConfig>;
  /** Trained weights and reference instead of a fresh network. */
  model?: { net: VbnNet; params: Record<string, tf.Tensor>; reference: tf.Tensor };
  /**
   * Implementation A and B: a module (.mjs/.js) or a Python file (.py, run by a worker); default
   * the built-in 'concat' and 'two-pass'.
   */
  a?: string;
  b?: string;
  /** A shell command starting a worker that speaks docs/check-protocol.md, instead of a file. */
  aCmd?: string;
  bCmd?: string;
  /** Python interpreter for .py files (default: $VBN_PYTHON, the project's .venv, python3). */
  python?: string;
  /** Seconds each request to a worker may take. Default 300. */
  workerTimeout?: number;
  /** Backends; default every available one. cpu, when listed, is the reference. */
  backends?: BackendName[];
  /** Reference size N. Default 8. */
  referenceSize?: number;
  /** Input batch size B (different from N on purpose). Default 5. */
  batchSize?: number;
  seed?: number;
  steps?: number;
  lr?: number;
  tolerance?: number;
}

/** Defaults of a check: a small network, B != N on purpose so a `shape[0] // 2` slice shows. */
export const CHECK_DEFAULTS = {
  imageSize: 12,
  channels: 1,
  filters: [4, 8],
  referenceSize: 8,
  batchSize: 5,
  seed: 0,
} as const;

function normals(n: number, rng: Random, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      mean +
      std * Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

function makeData(
  shape: number[],
  reference: Float32Array | null,
  n: number,
  b: number,
  classes: number,
  rng: Random,
): CheckData {
  const per = shape.reduce((x, y) => x * y, 1);
  return {
    reference: { shape: [n, ...shape], values: reference ?? normals(n * per, rng) },
    inputs: { shape: [b, ...shape], values: normals(b * per, rng, 0.5, 1.5) },
    labels: Int32Array.from({ length: b }, () => rng.int(classes)),
  };
}

/** Everything runCheck needs, from options a user (or the CLI) gives. */
export async function prepareCheck(s: CheckSetup): Promise<CheckOptions> {
  const present = await availableBackends();
  const asked = s.backends ?? present;
  const missing = asked.filter((b) => !present.includes(b));
  if (missing.length) {
    throw new VbnError(
      `--backends: ${missing.join(', ')} not available here (available: ${present.join(', ')})`,
    );
  }
  const backends = [...new Set(asked)].sort((a, b) => (a === 'cpu' ? -1 : b === 'cpu' ? 1 : 0));
  await tf.setBackend(backends[0]);
  const seed = s.seed ?? CHECK_DEFAULTS.seed;
  const rng = new Random(seed);
  let net: VbnNet;
  let params: Record<string, ParamValues>;
  let reference: Float32Array | null = null;
  let referenceSize: number = s.referenceSize ?? CHECK_DEFAULTS.referenceSize;
  const read = (p: Record<string, tf.Tensor>) =>
    Object.fromEntries(
      net.parameterNames.map((n) => [
        n,
        { shape: p[n].shape, values: p[n].dataSync().slice() as Float32Array },
      ]),
    );
  if (s.model) {
    net = s.model.net;
    params = read(s.model.params);
    reference = s.model.reference.dataSync().slice() as Float32Array;
    referenceSize = s.model.reference.shape[0];
  } else {
    const { imageSize, channels } = CHECK_DEFAULTS;
    net = createVbnNet({
      inputShape: [imageSize, imageSize, channels],
      filters: [...CHECK_DEFAULTS.filters],
      ...s.network,
    });
    const vars = net.init(seed);
    params = read(vars);
    tf.dispose(Object.values(vars));
  }
  const batch = s.batchSize ?? CHECK_DEFAULTS.batchSize;
  const shape = net.config.inputShape;
  const data = makeData(shape, reference, referenceSize, batch, net.config.numClasses, rng);
  // The finite-difference instance keeps B = N when the check has B = N, and B != N otherwise.
  const smallN = Math.min(3, referenceSize);
  const smallB = batch === referenceSize ? smallN : Math.min(2, batch);
  const smallData = makeData(shape, null, smallN, smallB, net.config.numClasses, rng);
  const timeout = s.workerTimeout ?? DEFAULT_WORKER_TIMEOUT;
  const load = async (file?: string, cmd?: string): Promise<AnyImplementation | null> => {
    if (cmd !== undefined) return startExternal(commandSpec(cmd, timeout), net);
    if (file === undefined) return null;
    if (file.endsWith('.py')) return startExternal(pythonSpec(file, timeout, s.python), net);
    return loadImplementation(file, net);
  };
  // Both workers start at once (a framework's start-up takes seconds); neither outlives a failure.
  const [ra, rb] = await Promise.allSettled([load(s.a, s.aCmd), load(s.b, s.bCmd)]);
  if (ra.status === 'rejected' || rb.status === 'rejected') {
    for (const r of [ra, rb])
      if (r.status === 'fulfilled' && r.value && isExternal(r.value)) await r.value.close();
    throw ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason;
  }
  const a = ra.value ?? builtinImplementation(net, 'concat');
  const b = rb.value ?? builtinImplementation(net, 'two-pass');
  return {
    net,
    a,
    b,
    params,
    data,
    smallData,
    backends,
    switchBackend: (name) => useBackend(name as BackendName),
    steps: s.steps,
    lr: s.lr,
    tolerance: s.tolerance,
    seed,
  };
}

/** Stops the workers of a prepared check's external implementations. */
export async function closeCheck(o: Pick<CheckOptions, 'a' | 'b'>): Promise<void> {
  for (const impl of [o.a, o.b]) if (isExternal(impl)) await impl.close();
}
