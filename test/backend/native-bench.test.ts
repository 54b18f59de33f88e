import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, it } from 'vitest';
import { useBackend } from 'vbn';
import { benchReport } from '../../src/cli/bench.js';
import { PASS_OF_KERNEL, profileStep } from '../../src/cli/bench-profile.js';
import { describeNative } from '../support/native-suite.js';
import { vbn } from '../support/run-cli.js';

/** Busy JavaScript for `ms` milliseconds (no kernel). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describeNative('vbn bench: FMA ceiling, % of it, per-pass profile', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('profileStep charges kernels to their pass and the time between kernels to other', async () => {
    await useBackend('native');
    const x = tf.randomNormal([4, 20, 20, 8]);
    const w = tf.randomNormal([3, 3, 8, 8]);
    const dy = tf.randomNormal([4, 18, 18, 8]);
    const p = await profileStep(() => {
      spin(40);
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), dy));
        tf.grads(f)([x, w]);
      });
    });
    expect(p.other).toBeGreaterThanOrEqual(0.04);
    expect(p.forward).toBeGreaterThan(0);
    expect(p.backwardData).toBeGreaterThan(0);
    expect(p.backwardWeights).toBeGreaterThan(0);
    expect(p.vbn).toBe(0);
    const sum = p.forward + p.backwardData + p.backwardWeights + p.vbn + p.other;
    expect(sum).toBeCloseTo(p.step, 9);
    const idle = await profileStep(() => spin(30));
    expect(idle.other).toBeGreaterThanOrEqual(0.03);
    expect([idle.forward, idle.backwardData, idle.backwardWeights, idle.vbn]).toEqual([0, 0, 0, 0]);
    tf.dispose([x, w, dy]);
  });

  it('every fused VBN kernel of the native backend is charged to the vbn pass', async () => {
    await useBackend('native');
    const fused = tf
      .getKernelsForBackend('native')
      .map((k) => k.kernelName)
      .filter((name) => name.startsWith('Vbn'));
    expect(fused.length).toBeGreaterThanOrEqual(8);
    for (const name of fused) expect(PASS_OF_KERNEL[name], name).toBe('vbn');
  });

  it('--json --profile carries the ceiling, % of it, peak RSS and the passes; the text shows them', async () => {
    const args = [
      ...['bench', '--image-size', '16', '--filters', '2,3', '--batch-size', '2'],
      ...['--reference-size', '2', '--steps', '1', '--backends', 'cpu,native', '--no-torch'],
      ...['--threads', '2', '--profile', '--json'],
    ];
    const r = await vbn(args, 240_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const peak = s.machine.fmaCeiling;
    expect(peak.threads).toBe(2);
    expect(peak.isa).toMatch(/FMA/);
    // Any core made so far: 1 to 320 GFLOP/s (2 AVX-512 FMA units x 16 lanes x 2 flops x 5 GHz).
    expect(peak.gflops / peak.threads).toBeGreaterThan(1);
    expect(peak.gflops / peak.threads).toBeLessThan(320);
    const [cpu, native] = s.results;
    for (const row of [cpu, native]) {
      expect(row.percentOfPeak).toBeCloseTo((100 * row.convGflops) / peak.gflops, 9);
      expect(row.peakRssMB).toBeGreaterThan(10);
      const { forward, backwardData, backwardWeights, vbn, other, step } = row.profile;
      expect(step).toBeGreaterThan(0);
      expect(forward + backwardData + backwardWeights + vbn + other).toBeCloseTo(step, 9);
    }
    // Fused VBN kernels exist on native only; both backends run every convolution pass.
    expect(native.profile.vbn).toBeGreaterThan(0);
    expect(cpu.profile.vbn).toBe(0);
    for (const row of [cpu, native]) {
      for (const pass of ['forward', 'backwardData', 'backwardWeights']) {
        expect(row.profile[pass], `${row.backend} ${pass}`).toBeGreaterThan(0);
      }
    }
    const text = benchReport(s).join('\n');
    expect(text).toMatch(/fp32 FMA ceiling: \d+\.\d GFLOP\/s \(2 threads, .*FMA/);
    expect(text).toMatch(/% of peak/);
    expect(text).toMatch(/forward +backward-data +backward-weights +VBN +other +step/);
  });
});
