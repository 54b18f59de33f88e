import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vbn } from '../support/run-cli.js';
import { VbnError, formatReport, prepareCheck, runCheck, type CheckReport } from 'vbn';

const IMPLS = join(import.meta.dirname, '..', 'fixtures', 'impls');
const impl = (name: string) => join(IMPLS, `${name}.mjs`);

async function check(
  b: string | undefined,
  extra: Parameters<typeof prepareCheck>[0] = {},
): Promise<CheckReport> {
  return runCheck(await prepareCheck({ b: b && impl(b), backends: ['cpu'], steps: 5, ...extra }));
}

const failing = (r: CheckReport) => r.rows.filter((x) => !x.ok).map((x) => x.check);

describe('vbn check', () => {
  it('the built-in strategies agree on every check and backend', async () => {
    const r = await check(undefined, { backends: ['cpu', 'wasm'], steps: 20 });
    expect(failing(r)).toEqual([]);
    expect(r.ok).toBe(true);
    const kinds = new Set(r.rows.map((x) => x.check.split(' ')[0]));
    for (const k of [
      'logits',
      'gradient',
      'fetch',
      'determinism',
      'trajectory:',
      'backend:',
      'float64:',
      'finite',
    ]) {
      expect(kinds).toContain(k);
    }
    expect(formatReport(r)).toMatch(/all \d+ checks pass/);
  });

  it('a correct hand-written implementation agrees with the built-in one', async () => {
    const r = await check('correct');
    expect(failing(r)).toEqual([]);
  });

  it('catches statistics taken from the inputs, and points at the block', async () => {
    const r = await check('stats-from-inputs');
    expect(r.ok).toBe(false);
    expect(failing(r)).toContain('logits');
    expect(r.divergence.join('\n')).toMatch(/part at block1 .*; block0 agrees/);
    expect(r.divergence.join('\n')).toMatch(
      /concat agrees with the float64 network; .*stats-from-inputs.mjs does not/,
    );
  });

  it('catches a reference sliced as shape[0] // 2 (batch 5 != reference 8)', async () => {
    const r = await check('half-slice');
    expect(failing(r)).toContain('logits');
    expect(r.divergence.join('\n')).toMatch(/part at block0/);
    expect(r.divergence.join('\n')).toMatch(
      /with batch = reference size \(8\) the logits agree, with batch 5 they do not: .*half-slice.mjs splits \[reference; inputs\] at the wrong row/,
    );
  });

  it('with batch = reference size the half slice is right, and every check passes (the finite-difference instance keeps B = N)', async () => {
    const r = await check('half-slice', { batchSize: 8, referenceSize: 8 });
    expect(failing(r)).toEqual([]);
  });

  it('compares the gradient w.r.t. the reference: a reference cut from the graph fails that row and the float64 gradients, nothing else', async () => {
    const r = await check('reference-detached');
    expect(failing(r)).toEqual(['gradient reference', 'float64: gradients']);
  });

  it('catches gradients stopped at the reference statistics: logits agree, gradients do not', async () => {
    const r = await check('stop-gradient');
    const bad = failing(r);
    expect(bad).not.toContain('logits');
    expect(bad).toContain('gradient conv0/kernel');
    expect(r.divergence.join('\n')).toMatch(
      /the logits agree but the gradients do not; the first parameter .* is conv0\/kernel/,
    );
  });

  it('catches a kernel whose results change when gradients are computed in the same call', async () => {
    const r = await check('fetch-variant');
    const fetch = r.rows.filter((x) => x.check === 'fetch invariance');
    expect(fetch.find((x) => x.compared.startsWith('concat'))!.ok).toBe(true);
    expect(fetch.find((x) => x.compared.includes('fetch-variant'))!.ok).toBe(false);
    expect(r.divergence.join('\n')).toMatch(
      /fetch-variant.mjs gives different logits when gradients are computed in the same call/,
    );
  });

  it('fetch invariance is bitwise: logits 1 ulp larger only while gradients are recorded fail it', async () => {
    const r = await check('fetch-ulp');
    const row = r.rows.find(
      (x) => x.check === 'fetch invariance' && x.compared.includes('fetch-ulp'),
    )!;
    expect(row.ok).toBe(false);
    expect(row.tolerance).toEqual({ bitwise: true });
    expect(row.relNorm).toBeGreaterThan(0);
    expect(row.relNorm).toBeLessThan(1e-6); // far inside any relative tolerance: only bitwise sees it
    expect(formatReport(r)).toMatch(
      /fetch invariance +\S*fetch-ulp.mjs: logits alone vs with gradients +cpu +\d+ values differ +bitwise +FAIL/,
    );
    expect(r.divergence.join('\n')).toMatch(
      /fetch-ulp.mjs gives different logits when gradients are computed/,
    );
  });

  it('a module asking for a parameter that does not exist, or returning the wrong shape, gets a clear error', async () => {
    await expect(check('missing-parameter')).rejects.toThrow(VbnError);
    await expect(check('missing-parameter')).rejects.toThrow(
      /missing-parameter.mjs: asks for parameter 'conv1\/weights', which the network does not have \(parameters: conv0\/kernel, /,
    );
    await expect(check('wrong-shape')).rejects.toThrow(
      /wrong-shape.mjs: apply returned logits of shape \[2,5\] but expected \[5,2\]/,
    );
    await expect(check('no-such-file')).rejects.toThrow(/no-such-file.mjs: no such module/);
  });

  it('CLI: exit 0 and a table when they agree, 1 with the divergence when not, 2 on usage errors', async () => {
    const run = (args: string[]) => vbn(['check', '--backends', 'cpu', '--steps', '3', ...args]);
    const ok = await run([]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^check\s+compared\s+backend\s+measure\s+tolerance\s+result$/m);
    expect(ok.stdout).toMatch(/all \d+ checks pass/);
    const bad = await run(['--b', impl('stats-from-inputs'), '--json']);
    expect(bad.code).toBe(1);
    const j = JSON.parse(bad.stdout.trim().split('\n').pop()!);
    expect(j.ok).toBe(false);
    expect(j.divergence[0]).toMatch(/block1/);
    const usage = await run(['--b', impl('missing-parameter')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toMatch(
      /^vbn: .*missing-parameter.mjs: asks for parameter 'conv1\/weights'/,
    );
    expect((await run(['--backends', 'tpu'])).code).toBe(2);
  });
});
