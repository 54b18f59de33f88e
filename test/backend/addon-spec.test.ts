import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { addonHeader } from '../../src/backend/node/addon-header.js';
import { ADDON_SPEC } from '../../src/backend/node/addon-spec.js';
import { loadAddon } from '../../src/backend/node/native.js';
import { describeNative } from '../support/native-suite.js';

/**
 * The addon's one table (src/backend/node/addon-spec.ts) and what derives from it: the C++ header
 * (generated), the addon's entry points, and the named-argument calling convention. That the C++
 * reads every argument of the table with the table's kind is checked by the engine itself on each
 * call (Args::done and Args::get), hence by every test that calls it; the fuzz fixture's good calls
 * must name exactly the table's arguments.
 */
it('native/src/addon-spec.h is the header generated from addon-spec.ts (node scripts/gen-addon-spec.mjs)', () => {
  const path = new URL('../../native/src/addon-spec.h', import.meta.url);
  expect(readFileSync(path, 'utf8')).toBe(addonHeader());
});

describeNative('the addon against its table', () => {
  it('exports exactly the entry points of the table', () => {
    const a = loadAddon()!;
    expect(Object.keys(a).sort()).toEqual(Object.keys(ADDON_SPEC).sort());
  });

  it('takes one object of named arguments: positional calls and a missing argument are refused by name', () => {
    const a = loadAddon()!;
    const f = new Float32Array(3);
    const binary = a.binary as unknown as (...args: unknown[]) => void;
    expect(() => binary(0, f, f, f)).toThrow(
      new TypeError(
        'vbn native: binary: takes one object of named arguments but got 4 argument(s), the first 0',
      ),
    );
    expect(() => binary([0, f, f, f])).toThrow(/binary: takes one object of named arguments/);
    expect(() => binary({ op: 0, a: f, b: f })).toThrow(
      new TypeError('vbn native: binary: out must be a Float32Array but is undefined'),
    );
    const out = new Float32Array(3);
    a.binary({ op: 0, a: Float32Array.of(1, 2, 3), b: Float32Array.of(10, 20, 30), out });
    expect([...out]).toEqual([11, 22, 33]);
  });
});
