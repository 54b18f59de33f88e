import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../src/data/node/npy.js';
import { PYTHON_PROBLEM, VENV_PYTHON } from './python-suite.js';

/** The project's Python environment (scripts/setup-python.sh): numpy, onnx, onnxruntime. */
export const PYTHON = VENV_PYTHON;
const RUNNER = join(import.meta.dirname, '..', 'fixtures', 'onnx-run.py');

/**
 * Whether the onnxruntime suites run: they need the project's Python environment with its
 * packages (test/support/python-suite.ts probes them). With VBN_REQUIRE_PYTHON=1 (CI) a missing
 * environment fails them instead of skipping them.
 */
export function pythonSuiteEnabled(): boolean {
  if (PYTHON_PROBLEM === null) return true;
  if (process.env.VBN_REQUIRE_PYTHON === '1') {
    throw new Error(
      `VBN_REQUIRE_PYTHON=1 but the Python environment is unavailable: ${PYTHON_PROBLEM}`,
    );
  }
  console.log(`skipped: onnxruntime checks need the Python environment: ${PYTHON_PROBLEM}`);
  return false;
}

export interface OnnxJob {
  model: string;
  /** A float32 .npy fed to the model's only input. */
  input: string;
  /** Where the model's first output is written (.npy). */
  output: string;
  /** Also run every row alone and among others; report the largest difference. */
  independence?: boolean;
}

export interface OnnxModelReport {
  opset: number;
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[]][];
  /** max |row alone - row in a batch| over batches of 2, 3, 7 and all; null when not asked. */
  independence: number | null;
}

/**
 * Runs the jobs in Python's onnxruntime (CPU) after onnx.checker.check_model(full_check=True)
 * on each model, in one Python process; rejects with Python's error output when any fails.
 */
export function runOnnx(dir: string, jobs: OnnxJob[]): Promise<Record<string, OnnxModelReport>> {
  const file = join(dir, 'onnx-jobs.json');
  writeFileSync(file, JSON.stringify(jobs));
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [RUNNER, file], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`onnx-run.py failed: ${stderr || err.message}`));
      else resolve((JSON.parse(stdout) as { models: Record<string, OnnxModelReport> }).models);
    });
  });
}

/** A float32 .npy as plain numbers with its shape. */
export function readFloats(file: string): { values: Float32Array; shape: number[] } {
  const a = readNpy(file);
  return { values: a.data as Float32Array, shape: a.shape };
}

/** Softmax of each row of `logits` `[B, K]` (row-major), in float64. */
export function softmaxRows(logits: Float32Array, k: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < logits.length / k; r++) {
    const row = Array.from(logits.subarray(r * k, (r + 1) * k));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => v / s));
  }
  return rows;
}

/** Largest absolute difference of two equally long lists. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
