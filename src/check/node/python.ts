import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VbnError } from '../../errors.js';
import type { WorkerSpec } from './worker.js';

/** The package's root (the folder holding python/ and package.json), from src/ or dist/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The Python worker shipped with the package. */
export const PYTHON_WORKER = join(PACKAGE_ROOT, 'python', 'vbn_worker.py');

/** Default seconds each request to a worker may take. */
export const DEFAULT_WORKER_TIMEOUT = 300;

/**
 * The interpreter: `--python`, else $VBN_PYTHON, else the project's environment (.venv/ in the
 * current folder or the package's root) when it is set up, else python3.
 */
export function pythonInterpreter(flag?: string): { path: string; from: string } {
  if (flag) return { path: flag, from: '--python' };
  if (process.env.VBN_PYTHON) return { path: process.env.VBN_PYTHON, from: 'VBN_PYTHON' };
  for (const root of [process.cwd(), PACKAGE_ROOT]) {
    const venv = join(root, '.venv', 'bin', 'python');
    if (existsSync(venv)) return { path: venv, from: 'the project environment' };
  }
  return { path: 'python3', from: 'the default' };
}

const workerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PYTHONUNBUFFERED: '1',
  PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ left next to the user's file
  TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2',
});

/** A worker running a Python implementation file. */
export function pythonSpec(file: string, timeoutSeconds: number, python?: string): WorkerSpec {
  if (!existsSync(file)) throw new VbnError(`${file}: no such file`);
  const py = pythonInterpreter(python);
  return {
    owner: file,
    command: py.path,
    args: [PYTHON_WORKER, resolve(file)],
    env: workerEnv(),
    timeoutSeconds,
    notFound: `${file}: no Python interpreter at '${py.path}' (from ${py.from}; set --python or VBN_PYTHON, or run scripts/setup-python.sh)`,
  };
}

/** A worker started by a shell command (--a-cmd / --b-cmd). */
export function commandSpec(command: string, timeoutSeconds: number): WorkerSpec {
  return {
    owner: command,
    command: '/bin/sh',
    args: ['-c', command],
    env: workerEnv(),
    timeoutSeconds,
    notFound: `${command}: /bin/sh is missing, so the command cannot be started`,
  };
}
