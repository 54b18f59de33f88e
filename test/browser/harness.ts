/**
 * Page-side half of test/web/browser.test.ts, bundled by the test with esbuild and loaded into
 * Chromium from the `vbn web` server's origin. It imports the package's browser entry and exposes
 * `window.harness` for the test to call.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createVbnNet, useBackend, type BackendName, type VbnNet } from '../../src/browser.js';
import type { Dataset } from '../../src/data/dataset.js';
import { TrainingSession } from '../../src/web/page/session.js';
import { PAGE_DEFAULTS } from '../../src/web/page/settings.js';
import { float64Run, type CheckData, type ParamValues } from '../../src/testing.js';
import { compare } from '../../src/check/compare.js';
import { agreementReport, logitsAndGradients } from '../../src/web/page/agreement.js';
import { Random } from '../../src/util/random.js';
import type { ContractResult, HarnessApi, Harnessed } from '../support/browser-api.js';
import {
  NET_CASES,
  NORMS,
  discriminatorGradients,
  generatorGradients,
  layerFitMovement,
  netGradients,
  relativeErrors,
  variableGradients,
  type Values,
} from '../support/contract.js';
import { netOracle } from '../support/contract-oracle.js';

// What importing vbn did, before anything else runs.
const afterImport = {
  backendName: (tf.engine() as unknown as { backendName?: string | null }).backendName ?? null,
  registered: Object.keys(tf.engine().registryFactory),
};

const backendOptions = { wasmPaths: new URL('./', location.href).href };
const use = (name: string) => useBackend(name as BackendName, undefined, backendOptions);

function normals(n: number, rng: Random): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = 1 - rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  });
}

/** A small network and data: 12x12x1, filters 4,8, reference 8 against a batch of 5 (B != N). */
function instance(seed: number) {
  const net = createVbnNet({ inputShape: [12, 12, 1], filters: [4, 8] });
  const rng = new Random(seed);
  const params: Record<string, ParamValues> = {};
  for (const name of net.parameterNames) {
    const shape = net.parameterShapes[name];
    const size = shape.reduce((a, b) => a * b, 1);
    const scale = name.endsWith('gamma') ? 0 : name.endsWith('kernel') ? 0.4 : 0.1;
    const values = normals(size, rng).map((v) =>
      name.endsWith('gamma') ? 1 + 0.1 * v : scale * v,
    );
    params[name] = { shape: [...shape], values };
  }
  const data: CheckData = {
    reference: { shape: [8, 12, 12, 1], values: normals(8 * 144, rng) },
    inputs: { shape: [5, 12, 12, 1], values: normals(5 * 144, rng) },
    labels: Int32Array.from({ length: 5 }, (_, i) => i % 2),
  };
  return { net, params, data };
}

/** The agreement rows (strategies on each backend, `backend` vs cpu) plus cpu vs float64. */
async function agreement(backend: string, tolerance: number) {
  const { net, params, data } = instance(1);
  const report = await agreementReport({
    net,
    params,
    data,
    backends: ['cpu', backend],
    switchBackend: use,
    tolerance,
  });
  await use('cpu');
  const f64 = float64Run(net.config, params, data);
  const cpu = await logitsAndGradients(net, params, data, 'concat', 'loss');
  const oracle = [
    compare(
      'float64 logits',
      { shape: [5, 2], values: cpu.logits },
      { shape: [5, 2], values: f64.logits },
      { relNorm: tolerance },
    ),
    ...net.parameterNames.map((n) =>
      compare(
        `float64 gradient ${n}`,
        { shape: params[n].shape, values: cpu.grads[n] },
        { shape: params[n].shape, values: f64.grads[n] },
        { relNorm: tolerance },
      ),
    ),
  ];
  const rows = [...report.rows, ...oracle];
  return {
    rows: rows.map((r) => ({ stage: r.stage, ok: r.ok, relNorm: r.relNorm, message: r.message })),
    stages: report.rows.map((r) => `${r.backend} ${r.compared} ${r.check}`),
    parameterNames: net.parameterNames,
  };
}

/**
 * The agreement table with a planted backend bug: off cpu, the network's logits are scaled by
 * 1.001 (as a wrong kernel would). The backend rows must fail, the strategy rows must pass.
 */
async function plantedBackendBug(backend: string) {
  const { net, params, data } = instance(2);
  const buggy: VbnNet = {
    ...net,
    apply: (p, r, x, o) => {
      const logits = net.apply(p, r, x, o);
      return tf.getBackend() === 'cpu' ? logits : tf.mul(logits, 1.001);
    },
  };
  const report = await agreementReport({
    net: buggy,
    params,
    data,
    backends: ['cpu', backend],
    switchBackend: use,
    tolerance: 1e-4,
  });
  await use('cpu');
  return report.rows.map((r) => ({ check: r.check, compared: r.compared, ok: r.ok }));
}

/**
 * `steps` steps of the page's own training session on `backend`, on a separable task (a bright
 * blob left or right of a 28x28 noise image): filters 4,8, reference 8, batch 8, Adam 0.01.
 * Returns the loss per step and how many tensors outlived the session.
 */
/** 28x28 noise images with a bright blob left (class 0) or right (class 1). */
function blobs(n: number, rng: Random): Dataset {
  const labels = Int32Array.from({ length: n }, () => rng.int(2));
  const x = normals(n * 784, rng).map((v) => 0.3 * v);
  labels.forEach((c, i) => {
    for (let r = 10; r < 18; r++) {
      for (let k = 0; k < 7; k++) x[i * 784 + r * 28 + (c ? 19 + k : 2 + k)] += 1;
    }
  });
  return { images: x, labels, shape: [28, 28, 1], classNames: ['left', 'right'] };
}

async function train(backend: string, steps: number) {
  await use(backend);
  const before = tf.memory().numTensors;
  const rng = new Random(7);
  const session = new TrainingSession(
    {
      ...PAGE_DEFAULTS,
      backend: backend as BackendName,
      filters: [4, 8],
      classes: [0, 1],
      batchSize: 8,
      referenceSize: 8,
      lr: 0.01,
    },
    blobs(64, rng),
    blobs(16, rng),
  );
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) losses.push((await session.step()).loss);
  } finally {
    session.dispose();
  }
  return { backend: tf.getBackend(), losses, leaked: tf.memory().numTensors - before };
}

/** Milliseconds of each of `steps` page training steps after `warmup` untimed ones (for bench/). */
async function timeSteps(backend: string, filters: number[], batch: number, steps: number) {
  await use(backend);
  const rng = new Random(11);
  const session = new TrainingSession(
    {
      ...PAGE_DEFAULTS,
      backend: backend as BackendName,
      filters,
      classes: [0, 1],
      batchSize: batch,
      referenceSize: batch,
    },
    blobs(batch * 4, rng),
    blobs(8, rng),
  );
  const ms: number[] = [];
  try {
    for (let s = 0; s < 3; s++) await session.step();
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await session.step();
      ms.push(performance.now() - t0);
    }
  } finally {
    session.dispose();
  }
  return ms;
}

/** Every item of the differentiability contract on `backend`, against cpu (cpu: against float64). */
async function contract(backend: string): Promise<ContractResult> {
  const items: Record<string, () => Promise<Values>> = {
    discriminator: discriminatorGradients,
  };
  for (const c of NET_CASES) {
    items[`grads ${c.name}`] = () => netGradients(c);
    if (c.strategy !== 'cached') items[`variableGrads ${c.name}`] = () => variableGradients(c);
  }
  for (const norm of NORMS) items[`generator ${norm}`] = () => generatorGradients(norm);
  const want: Record<string, Values | Record<string, Float64Array>> = {};
  await use('cpu');
  if (backend === 'cpu') {
    for (const c of NET_CASES) want[`grads ${c.name}`] = netOracle(c);
  } else {
    for (const [k, f] of Object.entries(items)) want[k] = await f();
  }
  await use(backend);
  const result: ContractResult = { errors: {}, referenceNorms: {}, moved: {} };
  for (const [k, f] of Object.entries(items)) {
    if (!want[k]) continue;
    const got = await f();
    result.errors[k] = relativeErrors(got, want[k]);
    for (const extra of Object.keys(got)) result.errors[k][extra] ??= Infinity;
    if (got.reference && k.startsWith('variableGrads')) {
      result.referenceNorms[k] = Math.hypot(...got.reference);
    }
  }
  result.moved = await layerFitMovement();
  await use('cpu');
  return result;
}

const api: HarnessApi = {
  afterImport,
  agreement,
  plantedBackendBug,
  train,
  contract,
  timeSteps,
  useBackend: use,
};
(globalThis as unknown as Harnessed).harness = api;
document.body.dataset.ready = 'true';
