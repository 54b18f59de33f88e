import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { randn, relErr } from '../support/helpers.js';
import { describeRequiring } from '../support/describe-requiring.js';
import { conv64, conv64BackData, conv64BackFilter, outSize, type Case } from '../support/conv64.js';

/**
 * The native engine's two instruction-set paths (native/src/isa.h): where the CPU has AVX-512 the
 * addon runs its AVX-512 Winograd kernels, and VBN_ISA=avx2 (read when the addon loads) forces the
 * AVX2 ones. Each path runs in a child process of its own; both must agree with a float64
 * convolution written here, in all three passes, and the two Winograd paths must give the same
 * bits (they add the same products in the same order). Shapes include odd sizes, asymmetric pads
 * and channel counts that are not multiples of 16 or 8 (the vector tails), and one with enough
 * tiles for several filter-gradient chunks.
 */
const ADDON = fileURLToPath(new URL('../../native/build/Release/vbn_native.node', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/isa-child.mjs', import.meta.url));
const AUTO = 0;
const DIRECT = 1;
const WINOGRAD = 2;
const ALGORITHMS = [AUTO, DIRECT, WINOGRAD];

const CASES: Case[] = [
  { b: 2, h: 9, w: 10, ci: 16, co: 32, pads: [0, 0, 0, 0] },
  { b: 2, h: 11, w: 7, ci: 32, co: 64, pads: [1, 1, 1, 1] },
  { b: 3, h: 13, w: 9, ci: 19, co: 35, pads: [0, 1, 1, 0] },
  { b: 2, h: 8, w: 8, ci: 48, co: 24, pads: [1, 1, 1, 1] },
  { b: 1, h: 10, w: 12, ci: 40, co: 72, pads: [2, 0, 0, 2] },
  { b: 2, h: 134, w: 133, ci: 16, co: 16, pads: [0, 0, 1, 0] },
];

/** y = conv(x, w), dx and dw of sum(y * dy), in float64. */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array) {
  return {
    y: conv64(c, x, w).y,
    dx: conv64BackData(c, dy, w).y,
    dw: conv64BackFilter(c, x, dy),
  };
}

type Pass = 'y' | 'dx' | 'dw';
/**
 * Norm-wise relative error allowed against float64: y and dx sum 9 * channels products, dw sums
 * one per output pixel (tens of thousands here), so its float32 rounding grows larger.
 */
const TOLERANCE: Record<Pass, number> = { y: 2e-6, dx: 2e-6, dw: 1e-5 };
type Result = { algorithm: number } & Record<Pass, Float32Array>;

/** Runs every case with every algorithm in a child process; VBN_ISA as given (absent: unset). */
function runChild(
  dir: string,
  isa: string | undefined,
  inputs: string,
): { isa: string; results: Result[][] } {
  const out = join(dir, `out-${isa ?? 'default'}.json`);
  const env = { ...process.env };
  delete env.VBN_ISA;
  if (isa) env.VBN_ISA = isa;
  execFileSync(process.execPath, [CHILD, ADDON, inputs, out], { env, stdio: 'pipe' });
  const raw = JSON.parse(readFileSync(out, 'utf8')) as {
    isa: string;
    results: ({ algorithm: number } & Record<Pass, string>)[][];
  };
  const floats = (s: string) => {
    const b = Buffer.from(s, 'base64');
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  };
  return {
    isa: raw.isa,
    results: raw.results.map((perCase) =>
      perCase.map((r) => ({
        algorithm: r.algorithm,
        y: floats(r.y),
        dx: floats(r.dx),
        dw: floats(r.dw),
      })),
    ),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'vbn-isa-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = CASES.map((c, k) => {
  const [ho, wo] = outSize(c);
  return {
    x: randn(c.b * c.h * c.w * c.ci, 100 + k),
    w: randn(9 * c.ci * c.co, 200 + k, 0, 0.2),
    dy: randn(c.b * ho * wo * c.co, 300 + k),
  };
});
const inputs = join(dir, 'in.json');
const text = (a: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
writeFileSync(
  inputs,
  JSON.stringify({
    algorithms: ALGORITHMS,
    cases: CASES.map((c, k) => ({
      ...c,
      xData: text(data[k].x),
      wData: text(data[k].w),
      dyData: text(data[k].dy),
    })),
  }),
);

// Where the engine does not load, or the CPU has no AVX-512, there is one path: nothing to compare.
let problem: string | null = existsSync(ADDON) ? null : 'the oneDNN addon is not built';
let avx512: ReturnType<typeof runChild> | null = null;
if (problem === null) {
  try {
    avx512 = runChild(dir, undefined, inputs);
    if (avx512.isa !== 'avx512')
      problem = `this CPU has no AVX-512 (the engine runs its ${avx512.isa} path)`;
  } catch (e) {
    problem = `the addon failed in a child process (${(e as Error).message.split('\n')[0]})`;
  }
}

describeRequiring(
  'an AVX-512 CPU',
  problem,
  'VBN_REQUIRE_AVX512',
  'the AVX-512 and AVX2 paths of the native engine',
  () => {
    const avx2 = problem === null ? runChild(dir, 'avx2', inputs) : null;
    const want = CASES.map((c, k) => reference(c, data[k].x, data[k].w, data[k].dy));

    it('VBN_ISA=avx2 forces the AVX2 path; without it the AVX-512 path runs', () => {
      expect(avx512!.isa).toBe('avx512');
      expect(avx2!.isa).toBe('avx2');
    });

    CASES.forEach((c, k) => {
      it(`both paths agree with float64 in all passes and algorithms ${JSON.stringify(c)}`, () => {
        for (const run of [avx512!, avx2!]) {
          for (const r of run.results[k]) {
            for (const pass of ['y', 'dx', 'dw'] as const) {
              const err = relErr(r[pass], want[k][pass]);
              expect(err, `${run.isa} algorithm ${r.algorithm} ${pass}`).toBeLessThan(
                TOLERANCE[pass],
              );
            }
          }
        }
      });

      it(`the Winograd kernels of both paths give the same bits ${JSON.stringify(c)}`, () => {
        const a = avx512!.results[k].find((r) => r.algorithm === WINOGRAD)!;
        const b = avx2!.results[k].find((r) => r.algorithm === WINOGRAD)!;
        for (const pass of ['y', 'dx', 'dw'] as const) {
          const same = Buffer.from(a[pass].buffer, a[pass].byteOffset, a[pass].byteLength).equals(
            Buffer.from(b[pass].buffer, b[pass].byteOffset, b[pass].byteLength),
          );
          expect(same, `${pass}: relative difference ${relErr(a[pass], b[pass])}`).toBe(true);
        }
      });
    });

    it('oneDNN direct on the two paths agrees to rounding (its kernels differ by ISA)', () => {
      CASES.forEach((c, k) => {
        const a = avx512!.results[k].find((r) => r.algorithm === DIRECT)!;
        const b = avx2!.results[k].find((r) => r.algorithm === DIRECT)!;
        for (const pass of ['y', 'dx', 'dw'] as const)
          expect(relErr(a[pass], b[pass]), pass).toBeLessThan(2 * TOLERANCE[pass]);
      });
    });
  },
);
