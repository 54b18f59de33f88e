import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDiscriminator, createGenerator, GAN_DEFAULTS } from 'vbn';
import { benchReport } from '../../src/cli/bench.js';
import { ganFlopsPerStep, torchGanArgs } from '../../src/cli/bench-gan.js';
import { interleave, torchPython, vectorBits, type ChildTiming } from '../../src/cli/bench-run.js';
import { resolveGanTrainConfig } from '../../src/gan/config.js';
import { describeNative } from '../support/native-suite.js';
import { vbn } from '../support/run-cli.js';

/**
 * `vbn bench --gan` and `--demo`: the children alternate round by round, the GAN step's FLOPs
 * are the hand count below, PyTorch's GAN has vbn's parameters, and the report names the
 * processor, its vector width, the ceiling and the % of it.
 */

const timing = (backend: string, times: number[], peakRssMB = 1): ChildTiming => ({
  backend,
  best: Math.min(...times),
  median: times[0],
  times,
  peakRssMB,
});

describe('vbn bench: rounds, FLOPs, the PyTorch GAN', () => {
  it('interleave runs each child once per round, in turn, and joins each one’s times', () => {
    const order: string[] = [];
    let k = 0;
    const child = (label: string) => ({
      label,
      run: () => {
        order.push(label);
        k++;
        return timing(label, [k, 10 * k], k);
      },
    });
    const [a, b] = interleave(3, [child('a'), child('b')]);
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(a.times).toEqual([1, 10, 3, 30, 5, 50]);
    expect([a.best, a.median, a.peakRssMB]).toEqual([1, 10, 5]);
    expect(b.times).toEqual([2, 20, 4, 40, 6, 60]);
    expect([b.best, b.median]).toEqual([2, 20]);
    const failed = interleave(2, [
      { label: 'x', run: () => ({ ...timing('x', [NaN]), times: [], note: 'failed: boom' }) },
    ]);
    expect(Number.isNaN(failed[0].best)).toBe(true);
    expect(failed[0].note).toBe('failed: boom');
  });

  it('vectorBits reads the width from the engine’s instruction set', () => {
    expect(vectorBits('AVX-512 FMA')).toBe(512);
    expect(vectorBits('AVX2 FMA')).toBe(256);
    expect(vectorBits('scalar')).toBeNull();
  });

  it('the default GAN step counts 6.54 GFLOP of convolutions and matrix products', () => {
    // Multiply-adds x 2 per layer; G over 128 rows (64 reference + 64), its output layer 64.
    const dense = 2 * 128 * 64 * (7 * 7 * 64);
    const deconv1 = 2 * 128 * (7 * 7) * 64 * 32 * 16;
    const deconv2 = 2 * 128 * (14 * 14) * 32 * 16 * 16;
    const out = 2 * 64 * (28 * 28) * 16 * 1 * 16;
    const g = 2 * dense + 3 * (deconv1 + deconv2 + out); // forward, weights (and data but dense's)
    const conv = [
      2 * 64 * (14 * 14) * 1 * 32 * 16,
      2 * 64 * (7 * 7) * 32 * 64 * 16,
      2 * 64 * (4 * 4) * 64 * 128 * 16,
    ];
    const heads = 2 * 64 * 2048 * 11;
    const fwd = conv[0] + conv[1] + conv[2] + heads;
    // D's update: real and fake batches, forward + weights + data (not into the images);
    // G's update: one batch through D, forward + data.
    const d = 2 * (3 * fwd - conv[0]) + 2 * fwd;
    expect(ganFlopsPerStep(resolveGanTrainConfig({}))).toBe(g + d);
    expect((g + d) / 1e9).toBeCloseTo(6.538, 3);
  });

  it('bench/torch_gan_step.py builds networks with vbn gan’s parameter counts', () => {
    const py = torchPython();
    if (!py) return; // no PyTorch here: nothing to compare
    const script = fileURLToPath(new URL('../../bench/torch_gan_step.py', import.meta.url));
    const args = JSON.parse(torchGanArgs(1)) as Record<string, number>;
    const r = spawnSync(py.path, [script, JSON.stringify({ ...args, warmup: 0 })], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const count = (shapes: Readonly<Record<string, number[]>>) =>
      Object.values(shapes).reduce((a, s) => a + s.reduce((p, q) => p * q, 1), 0);
    const codes = GAN_DEFAULTS.runCodes;
    expect(t.parameters.generator).toBe(count(createGenerator({ codes }).parameterShapes));
    expect(t.parameters.discriminator).toBe(count(createDiscriminator({ codes }).parameterShapes));
    expect(t.times).toHaveLength(1);
  }, 120_000);
});

describeNative('vbn bench --gan on the native backend', () => {
  it('--gan --rounds 2: two rounds of steps, the processor, vector width, ceiling and % of it', async () => {
    const args = ['bench', '--gan', '--backend', 'native', '--no-torch', '--steps', '1'];
    const r = await vbn([...args, '--rounds', '2', '--threads', '2', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.config.rounds).toBe(2);
    expect(s.step).toMatch(/vbn gan's default step/);
    expect(s.machine.processor.length).toBeGreaterThan(0);
    const [native] = s.results;
    expect(native.backend).toBe('native');
    expect(native.times).toHaveLength(2);
    const gflops = ganFlopsPerStep(resolveGanTrainConfig({})) / native.best / 1e9;
    expect(native.convGflops).toBeCloseTo(gflops, 6);
    expect(native.percentOfPeak).toBeCloseTo((100 * gflops) / s.machine.fmaCeiling.gflops, 6);
    const text = benchReport(s).join('\n');
    expect(text).toMatch(/^processor: .+, \d+ cores; vectors: (256|512)-bit \(AVX/);
    expect(text).toMatch(/vbn gan's default step: .* 6\.5 GFLOP .* 2 rounds alternating/);
    expect(text).toMatch(/fp32 FMA ceiling: \d+\.\d GFLOP\/s/);
    expect(text).toMatch(/native +\d+\.\d{3} +\d+\.\d{3} .* \d+\.\d%/);
  }, 300_000);
});
