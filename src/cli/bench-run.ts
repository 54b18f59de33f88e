import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { pythonInterpreter } from '../check/node/python.js';
import { VbnError } from '../errors.js';

/** How `vbn bench` runs each timed step in its own process, and alternates them. */

/** A child's timings (seconds); NaN with a note when it failed. */
export interface ChildTiming {
  backend: string;
  best: number;
  median: number;
  times: number[];
  /** Process CPU time of each step (seconds): less sensitive than times to other load. */
  cpuTimes?: number[];
  peakRssMB: number;
  note?: string;
}

/**
 * The first interpreter that imports torch: the project's environment (PyTorch 2, set up by
 * `npm test`), else python3 (Debian's python3-torch is 1.13, an outdated peer: said so).
 */
export function torchPython(): { path: string; version: string } | null {
  const venv = pythonInterpreter();
  const candidates = venv.from === 'the project environment' ? [venv.path] : [];
  for (const py of [...candidates, 'python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    if (r.status === 0) return { path: py, version: r.stdout.trim() };
  }
  return null;
}

/** Runs one child that prints its timing as the last line of JSON. */
export function runIsolated<T extends ChildTiming>(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutS: number,
  label: string,
): T {
  // SIGKILL: the CLI treats SIGTERM as 'finish this step', which can take hours on cpu.
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
    env,
    maxBuffer: 1 << 24,
  });
  const failed = (note: string) =>
    ({ backend: label, best: NaN, median: NaN, times: [], peakRssMB: NaN, note }) as ChildTiming;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return failed(`did not finish warm-up + steps within ${timeoutS} s`) as T;
  }
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const t = JSON.parse(last) as T;
    if (typeof t.best === 'number') return { ...t, backend: label };
  } catch {
    /* reported below */
  }
  const why =
    (r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status ?? r.signal}`;
  return failed(`failed: ${why.slice(0, 160)}`) as T;
}

/**
 * Runs every child once per round, in turn, `rounds` times, so that other load on a shared
 * machine falls on all of them alike; each label's times are joined (best and median over all,
 * the largest peak RSS, the first round's other fields, the first note).
 */
export function interleave<T extends ChildTiming>(
  rounds: number,
  children: Array<{ label: string; run: () => T }>,
): T[] {
  const runs = children.map(() => [] as T[]);
  for (let r = 0; r < rounds; r++) children.forEach((c, i) => runs[i].push(c.run()));
  return runs.map((list) => {
    const times = list.flatMap((t) => t.times);
    const sorted = [...times].sort((a, b) => a - b);
    const ok = sorted.length > 0;
    return {
      ...list[0],
      best: ok ? sorted[0] : NaN,
      median: ok ? sorted[Math.floor(sorted.length / 2)] : NaN,
      times,
      cpuTimes: list.flatMap((t) => t.cpuTimes ?? []),
      peakRssMB: Math.max(...list.map((t) => t.peakRssMB)),
      note: list.find((t) => t.note)?.note,
    };
  });
}

/**
 * Times `steps` calls of `step` (after the caller's warm-up): wall and process CPU seconds of
 * each, the best and the median. A tensor count that grows over the steps is an error.
 */
export function timeSteps(
  step: () => void,
  steps: number,
  label: string,
): { best: number; median: number; times: number[]; cpuTimes: number[] } {
  const before = tf.memory().numTensors;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    step();
    times.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1e6);
  }
  if (tf.memory().numTensors !== before) {
    throw new VbnError(
      `${label}: tensor count grew from ${before} to ${tf.memory().numTensors} over ${steps} steps`,
      1,
    );
  }
  return { best: Math.min(...times), median: median(times), times, cpuTimes };
}

/** The median of a list (NaN when empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}

/** The processor's name (the first core's, as the OS reports it). */
export function processorName(): string {
  return cpus()[0]?.model.trim() || 'unknown';
}

/** The vector width the FMA ceiling was measured with, from the engine's instruction set. */
export function vectorBits(isa: string): number | null {
  if (isa.startsWith('AVX-512')) return 512;
  if (isa.startsWith('AVX')) return 256;
  return null;
}
