import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import {
  availableBackends,
  closeCheck,
  prepareCheck,
  runCheck,
  type CheckReport,
  type CheckSetup,
} from 'vbn';
import { describePython, EXAMPLES, PY_FIXTURES } from '../support/python-suite.js';
import { vbn } from '../support/run-cli.js';

const example = (name: string) => join(EXAMPLES, name);
const fixture = (name: string) => join(PY_FIXTURES, `${name}.py`);
const failing = (r: CheckReport) => r.rows.filter((x) => !x.ok).map((x) => x.check);
const text = (r: CheckReport) => r.divergence.join('\n');

/** A whole check, workers stopped at the end. Backends cpu unless given; 3 trajectory steps. */
async function check(s: CheckSetup): Promise<CheckReport> {
  const o = await prepareCheck({ backends: ['cpu'], steps: 3, ...s });
  try {
    return await runCheck(o);
  } finally {
    await closeCheck(o);
  }
}

describePython('vbn check on Python implementations', () => {
  let backends: ('cpu' | 'native')[] = ['cpu'];
  beforeAll(async () => {
    backends = (await availableBackends()).includes('native') ? ['cpu', 'native'] : ['cpu'];
  });

  // Framework, version (pinned in scripts/setup-python.sh), device, and XLA where it is on.
  const runtimes: Record<string, RegExp> = {
    'torch_concat.py': /^torch 2\.\d+\.\d+\S* cpu$/,
    'torch_two_pass.py': /^torch 2\.\d+\.\d+\S* cpu$/,
    'tf2_xla.py': /^tensorflow 2\.\d+\.\d+ cpu XLA$/,
    'jax_two_pass.py': /^jax \d+\.\d+\.\d+ cpu$/,
    'numpy_vjp.py': /^numpy \d+\.\d+\.\d+ cpu$/,
  };
  for (const file of [
    'torch_concat.py',
    'torch_two_pass.py',
    'tf2_xla.py',
    'jax_two_pass.py',
    'numpy_vjp.py',
  ]) {
    it(`examples/${file} agrees with the built-in two-pass on every check, on cpu and native`, async () => {
      const r = await check({ a: example(file), backends, steps: file.startsWith('jax') ? 1 : 3 });
      expect(failing(r)).toEqual([]);
      const own = r.rows.filter((x) => x.compared.startsWith(example(file) + ':'));
      expect(own.length).toBeGreaterThan(0);
      for (const x of own) expect(x.backend).toMatch(runtimes[file]);
      const kinds = new Set(r.rows.map((x) => x.check));
      for (const k of [
        'logits',
        'gradient conv0/kernel',
        'gradient reference',
        'fetch invariance',
        'determinism',
        'trajectory: final weights',
        'float64: gradients',
        'finite differences',
      ])
        expect(kinds).toContain(k);
    });
  }

  it("the seed's pair (TF 1.x graph code with XLA) agrees when B = N", async () => {
    const r = await check({
      a: example('seed_vbn_single.py'),
      b: example('seed_vbn_double.py'),
      network: { mode: 'reference' },
      batchSize: 8,
      referenceSize: 8,
      steps: 2,
    });
    expect(failing(r)).toEqual([]);
  });

  it("the seed's vbn_single with B != N: the logits' row count names the shape[0] // 2 split", async () => {
    await expect(
      check({ a: example('seed_vbn_single.py'), network: { mode: 'reference' } }),
    ).rejects.toThrow(
      /seed_vbn_single.py: returned logits of shape \[6,2\] but expected \[5,2\]; 6 = \(N \+ B\) \/\/ 2 with reference N = 8 and batch B = 5: the implementation splits \[reference; inputs\] at shape\[0\] \/\/ 2/,
    );
  });

  it('layouts are converted both ways: a torch-layout file against a vbn-layout file, channels last and first', async () => {
    const r = await check({ a: example('torch_concat.py'), b: example('numpy_vjp.py') });
    expect(failing(r)).toEqual([]);
    const first = await check({
      a: example('torch_concat.py'),
      network: { dataFormat: 'channelsFirst', inputShape: [1, 12, 12] },
    });
    expect(failing(first)).toEqual([]);
  });

  it('leaves no tensor behind (a Python file against the built-in, with a failing check and its probes)', async () => {
    await check({ a: example('numpy_vjp.py') }); // backends and workers warmed up
    const before = tf.memory().numTensors;
    const ok = await check({ a: example('numpy_vjp.py') });
    const bad = await check({ a: fixture('torch_half_slice') });
    expect([ok.ok, bad.ok]).toEqual([true, false]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('planted: statistics from the inputs in block 0 are localized to block0', async () => {
    const r = await check({ a: fixture('torch_stats_from_inputs') });
    expect(failing(r)).toContain('logits');
    expect(text(r)).toMatch(/the implementations part at block0 /);
    expect(text(r)).toMatch(
      /two-pass agrees with the float64 network; .*torch_stats_from_inputs.py does not/,
    );
  });

  it("planted: the seed's half slice with B != N is named as the split", async () => {
    const r = await check({ a: fixture('torch_half_slice') });
    expect(failing(r)).toContain('logits');
    expect(text(r)).toMatch(/part at block0/);
    expect(text(r)).toMatch(
      /with batch = reference size \(8\) the logits agree, with batch 5 they do not: .*torch_half_slice.py splits \[reference; inputs\] at the wrong row/,
    );
  });

  it('planted: a stop-gradient at the reference statistics: the logits agree, the gradients do not', async () => {
    const r = await check({ a: fixture('torch_stop_gradient') });
    const bad = failing(r);
    expect(bad).not.toContain('logits');
    expect(bad).toContain('gradient conv0/kernel');
    expect(text(r)).toMatch(
      /the logits agree but the gradients do not; the first parameter .* is conv0\/kernel/,
    );
    expect(text(r)).toMatch(
      /torch_stop_gradient.py: its gradients are those of the float64 network with the gradient stopped at the reference statistics/,
    );
  });

  it('planted: epsilon 1e-3 instead of 1e-5 is named', async () => {
    const r = await check({ a: fixture('torch_epsilon') });
    expect(failing(r)).toContain('logits');
    expect(text(r)).toMatch(
      /torch_epsilon.py: its logits match the float64 network with epsilon 1e-3 instead of 1e-5/,
    );
  });

  it('planted: moments over the wrong axes part at block0 and disagree with float64', async () => {
    const r = await check({ a: fixture('torch_wrong_axes') });
    expect(failing(r)).toEqual(
      expect.arrayContaining(['logits', 'float64: logits', 'finite differences']),
    );
    expect(text(r)).toMatch(/the implementations part at block0 /);
    expect(text(r)).toMatch(/torch_wrong_axes.py does not/);
  });

  it('planted: logits 1 ulp larger only while gradients are recorded fail the bitwise fetch invariance row alone', async () => {
    const r = await check({ a: fixture('torch_fetch_ulp') });
    expect(failing(r)).toEqual(['fetch invariance']);
    const row = r.rows.find((x) => x.check === 'fetch invariance' && !x.ok)!;
    expect(row.tolerance).toEqual({ bitwise: true });
    expect(row.backend).toMatch(/^torch 2\.\d+\.\d+\S* cpu$/);
    expect(row.relNorm).toBeLessThan(1e-6);
  });

  it('CLI: the header names each framework, version and device; backend rows say why they do not apply', async () => {
    const r = await vbn([
      'check',
      '--a',
      example('torch_concat.py'),
      '--b',
      example('numpy_vjp.py'),
      '--backends',
      'cpu,wasm',
      '--steps',
      '2',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /torch_concat.py \(torch 2\.13\.0 cpu\) vs .*numpy_vjp.py \(numpy 2\.4\.6 cpu\);/,
    );
    expect(r.stdout).toMatch(
      /note: backend rows: not applicable to .*torch_concat.py \(it runs in torch 2\.13\.0 cpu, not on a TensorFlow.js backend\)/,
    );
  });
});
