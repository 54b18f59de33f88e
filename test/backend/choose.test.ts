import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend, VbnError } from 'vbn';
import { chooseBackend, initializableBackends } from '../../src/backend/choose.js';
import type { BackendCatalog } from '../../src/backend/choose.js';
import { BACKEND_NAMES } from '../../src/backend/node/select.js';
import { describeBackends } from '../support/backends.js';
import { BACKENDS } from '../support/helpers.js';

/**
 * Backend choice against made-up catalogs: which backend `auto` takes, what it logs, what an
 * explicit choice refuses. Backends `good-*` initialize; `broken` registers a factory that throws.
 */
let brokenFactoryCalls = 0;
tf.registerBackend('choose-good-a', () => new MathBackendCPU(), -1);
tf.registerBackend('choose-good-b', () => new MathBackendCPU(), -1);
tf.registerBackend(
  'choose-broken',
  () => {
    brokenFactoryCalls++;
    throw new Error('no device');
  },
  -1,
);

type Name = 'choose-broken' | 'choose-missing' | 'choose-good-a' | 'choose-good-b';
function catalog(order: Name[], prepared: Name[] = []): BackendCatalog<Name> {
  return {
    order,
    label: '--backend',
    async prepare(name) {
      prepared.push(name);
      return name === 'choose-missing' ? 'its library is not installed' : null;
    },
  };
}

async function choose(order: Name[], choice: Name | 'auto') {
  const lines: string[] = [];
  const prepared: Name[] = [];
  const name = await chooseBackend(catalog(order, prepared), choice, (l) => lines.push(l));
  return { name, lines, prepared, active: tf.getBackend() };
}

describe('chooseBackend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('auto: the first that prepares and initializes, one log line per skipped one, in order', async () => {
    const r = await choose(
      ['choose-missing', 'choose-broken', 'choose-good-a', 'choose-good-b'],
      'auto',
    );
    expect(r.name).toBe('choose-good-a');
    expect(r.active).toBe('choose-good-a');
    expect(r.prepared).toEqual(['choose-missing', 'choose-broken', 'choose-good-a']);
    expect(r.lines).toEqual([
      'backend choose-missing unavailable (its library is not installed); falling back',
      'backend choose-broken unavailable (the choose-broken backend failed to initialize); falling back',
    ]);
  });

  it('auto: the first of the order when it initializes, nothing logged', async () => {
    const r = await choose(['choose-good-b', 'choose-good-a'], 'auto');
    expect(r).toMatchObject({ name: 'choose-good-b', active: 'choose-good-b', lines: [] });
  });

  it('an explicit choice runs that backend or refuses with its reason (no fallback)', async () => {
    const r = await choose(['choose-good-a', 'choose-good-b'], 'choose-good-b');
    expect(r).toMatchObject({ name: 'choose-good-b', prepared: ['choose-good-b'], lines: [] });
    await expect(choose(['choose-missing', 'choose-good-a'], 'choose-missing')).rejects.toThrow(
      new VbnError('--backend choose-missing: its library is not installed'),
    );
    await expect(choose(['choose-broken', 'choose-good-a'], 'choose-broken')).rejects.toThrow(
      new VbnError('--backend choose-broken: the choose-broken backend failed to initialize'),
    );
  });

  it('a backend that failed to initialize is not tried again', async () => {
    const before = brokenFactoryCalls;
    await choose(['choose-broken', 'choose-good-a'], 'auto');
    await choose(['choose-broken', 'choose-good-a'], 'auto');
    expect(brokenFactoryCalls - before).toBeLessThanOrEqual(1);
  });

  it('a backend the catalog does not list, and a catalog where none initializes, are refused', async () => {
    const unknown = choose(['choose-good-a'], 'gpu' as Name);
    await expect(unknown).rejects.toThrow(
      new VbnError("--backend: unknown backend 'gpu' (expected one of auto, choose-good-a)"),
    );
    await expect(choose(['choose-missing', 'choose-broken'], 'auto')).rejects.toThrow(
      new VbnError('no TensorFlow.js backend could be initialized'),
    );
  });

  it('initializableBackends lists those that initialize, in order, and leaves the fallback active', async () => {
    const order: Name[] = ['choose-good-b', 'choose-missing', 'choose-broken', 'choose-good-a'];
    const list = await initializableBackends(catalog(order), 'choose-good-a');
    expect(list).toEqual(['choose-good-b', 'choose-good-a']);
    expect(tf.getBackend()).toBe('choose-good-a');
  });
});

describe('useBackend (Node)', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('cpu and wasm by name; an unknown name lists the choices', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await expect(useBackend('gpu' as 'cpu')).rejects.toThrow(
      new VbnError("--backend: unknown backend 'gpu' (expected one of auto, native, wasm, cpu)"),
    );
  });

  it('auto takes native where the engine loads, else wasm with one line saying why', async () => {
    const lines: string[] = [];
    const name = await useBackend('auto', (l) => lines.push(l));
    const native = await useBackend('native').then(
      () => null,
      (e: Error) => e.message,
    );
    if (native === null) {
      expect(name).toBe('native');
      expect(lines).toEqual([]);
    } else {
      expect(name).toBe('wasm');
      expect(lines).toEqual([
        expect.stringMatching(/^backend native unavailable \(.+\); falling back$/),
      ]);
    }
  });

  it('native engine threads outside [1, 256] are refused before anything loads', async () => {
    for (const threads of [0, 257, 1.5]) {
      await expect(useBackend('native', () => {}, { threads })).rejects.toThrow(
        /^useBackend: threads .*\[1, 256\]/,
      );
    }
  });
});

describeBackends('describeBackends: the suite for %s', (backend) => {
  it('runs with that backend active', () => {
    expect(tf.getBackend()).toBe(backend);
  });
});

it('describeBackends makes one suite per backend that initializes here', () => {
  expect(BACKENDS.length).toBeGreaterThanOrEqual(2); // cpu and wasm at least
  expect(BACKENDS.every((b) => (BACKEND_NAMES as readonly string[]).includes(b))).toBe(true);
});
