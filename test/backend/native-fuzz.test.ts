import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ADDON_SPEC } from '../../src/backend/node/addon-spec.js';
import { describeNative } from '../support/native-suite.js';

const CHILD = join(import.meta.dirname, '..', 'fixtures', 'native-fuzz.mjs');

describeNative('the native boundary survives bad calls', () => {
  it('2000 random bad calls to every entry point (raw addon, fused kernels, fused ops) each throw a JS error; the process exits 0', () => {
    // seed 7, 80 calls per raw entry point and fused op (and 10 per entry point not passing one
    // object of named arguments), 40 per kernel (see the child).
    const r = spawnSync(process.execPath, [CHILD, '7', '80'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.notThrown).toEqual([]);
    expect(out.goodCallsOk).toBe(true);
    expect(out.calls).toBeGreaterThanOrEqual(2000);
    // Every entry point of the addon's table that takes arguments, and every op.
    expect([...out.addonEntries].sort()).toEqual(Object.keys(ADDON_SPEC).sort());
    const raw = Object.entries(ADDON_SPEC)
      .filter(([, args]) => Object.keys(args).length > 0)
      .map(([entry]) => entry);
    expect(raw.length).toBeGreaterThanOrEqual(16);
    // And a well-formed call with NaN, infinite and extreme data for each of those bad calls.
    expect(out.nonFiniteCalls).toBe(raw.length * 80);
    expect(out.tensorsLeft).toBe(0);
    const ops = ['vbnStatsOp', 'vbnNormalizeOp', 'vbnLayerOp', 'spatialMeanOp'];
    const kernels = [
      'VbnStats',
      'VbnNormalize',
      'VbnLayer',
      'VbnLayerPool',
      'VbnLayerLeanGrad',
      'SpatialMean',
    ];
    expect(Object.keys(out.perEntry).sort()).toEqual([...raw, ...ops, ...kernels].sort());
  });
});
