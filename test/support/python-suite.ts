import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeRequiring } from './describe-requiring.js';

export const ROOT = join(import.meta.dirname, '..', '..');
/** The project's Python environment (scripts/setup-python.sh). */
export const VENV_PYTHON = join(ROOT, '.venv', 'bin', 'python');
export const EXAMPLES = join(ROOT, 'examples');
export const PY_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'py');

/** Why the frameworks cannot be used here, or null when they can. */
function problem(): string | null {
  if (!existsSync(VENV_PYTHON)) return `no ${VENV_PYTHON} (run scripts/setup-python.sh)`;
  const r = spawnSync(
    VENV_PYTHON,
    ['-c', 'import numpy, torch, tensorflow, jax, onnx, onnxruntime'],
    {
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    },
  );
  if (r.status !== 0)
    return `the environment lacks a framework: ${r.stderr.trim().split('\n').pop()}`;
  return null;
}

export const PYTHON_PROBLEM = problem();

/**
 * Suites that run Python need the project's environment with numpy, torch, tensorflow, jax, onnx
 * and onnxruntime. Without it they skip with one line, unless VBN_REQUIRE_PYTHON=1 (CI sets it):
 * then the missing environment fails the run with the reason.
 */
export function describePython(name: string, body: () => void): void {
  describeRequiring('the Python environment', PYTHON_PROBLEM, 'VBN_REQUIRE_PYTHON', name, body);
}
