import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the package by its name', () => {
  it("import { ... } from 'vbn' works from the repo root (exports map, built dist) on cpu and wasm", () => {
    const dir = mkdtempSync(join(ROOT, '.vbn-tmp-'));
    const script = join(dir, 'use.mjs');
    writeFileSync(
      script,
      `import * as tf from '@tensorflow/tfjs-core';
import { referenceStatistics, virtualBatchNorm, referenceBatchNorm, VirtualBatchNormalization, useBackend } from 'vbn';
const out = {};
for (const b of ['cpu', 'wasm']) {
  await useBackend(b);
  const r = tf.tensor([[1, 2], [3, 5], [5, 11]]);
  const y = virtualBatchNorm(tf.tensor([[3, 6]]), referenceStatistics(r), { mode: 'reference' });
  const rb = referenceBatchNorm(r, referenceStatistics(r));
  out[b] = { y: Array.from(y.dataSync()), rb: Array.from(rb.dataSync()), layer: typeof VirtualBatchNormalization.className };
}
console.log(JSON.stringify(out));
`,
    );
    try {
      const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      for (const b of ['cpu', 'wasm']) {
        // Reference mean (3, 6), variances 8/3 and 14: x = (3, 6) normalizes to 0.
        expect(out[b].y[0]).toBeCloseTo(0, 5);
        expect(out[b].y[1]).toBeCloseTo(0, 5);
        expect(out[b].rb[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-5), 4);
        expect(out[b].layer).toBe('string');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
