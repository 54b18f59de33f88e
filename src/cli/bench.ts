import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pythonInterpreter } from '../check/node/python.js';
import { Command } from 'commander';
import { formatTable } from '../util/table.js';
import * as tf from '@tensorflow/tfjs-core';
import { availableBackends, useBackend, type BackendName } from '../backend/node/select.js';
import { VbnError } from '../errors.js';
import { convOut, resolveNetConfig, type ResolvedNetConfig } from '../model/config.js';
import { createVbnNet } from '../model/net.js';
import { trainStep } from '../train/step.js';
import { measureFmaCeiling, type FmaCeiling } from '../backend/node/native.js';
import { profileStep, type PassTimes } from './bench-profile.js';
import { tfSeed } from '../util/random.js';
import type { CliContext } from './context.js';
import { addOptions } from './flags.js';
import { choice, integer } from './parse.js';
import { BENCH_OPTIONS, type BenchConfig } from './bench-options.js';
import { givenValues, resolveOptions, toArgs } from '../options/schema.js';

const BIN = fileURLToPath(new URL('../../bin/vbn.js', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_step.py', import.meta.url));

interface Timing {
  backend: string;
  best: number;
  median: number;
  times: number[];
  peakRssMB: number;
  /** One more step under tf.profile, split by pass (with --profile). */
  profile?: PassTimes;
  note?: string;
}

/** Convolution FLOPs of one training step: forward, backward-data (not for the input), backward-weights. */
export function convFlopsPerStep(c: ResolvedNetConfig, rows: number): number {
  let [h, w] = [c.inputShape[0], c.inputShape[1]];
  let cin = c.inputShape[2];
  let total = 0;
  c.filters.forEach((f, i) => {
    [h, w] = [convOut(h, c), convOut(w, c)];
    const fwd = 2 * rows * h * w * c.kernelSize * c.kernelSize * cin * f;
    total += fwd * (i === 0 ? 2 : 3);
    cin = f;
  });
  return total;
}

/** One backend, in this process: warm-up step, then `steps` timed training steps. */
async function runChild(cfg: BenchConfig, backend: BackendName): Promise<Timing> {
  await useBackend(backend);
  const net = createVbnNet({
    inputShape: [cfg.imageSize, cfg.imageSize, 1],
    filters: cfg.filters,
    kernelSize: cfg.kernelSize,
    strides: cfg.strides,
    padding: cfg.padding,
    mode: cfg.mode,
  });
  const params = net.init(1);
  const opt = tf.train.adam(1e-3);
  const s = [cfg.imageSize, cfg.imageSize, 1];
  const ref = tf.randomNormal([cfg.referenceSize, ...s], 0, 1, 'float32', tfSeed(1, 1));
  const x = tf.randomNormal([cfg.batchSize, ...s], 0, 1, 'float32', tfSeed(1, 2));
  const y = tf.randomUniform([cfg.batchSize], 0, 2, 'int32', tfSeed(1, 3)) as tf.Tensor1D;
  const step = () =>
    trainStep(net, params, opt, ref, x, y, {
      strategy: cfg.strategy,
      loss: 'softmax-cross-entropy',
    });
  step();
  const before = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < cfg.steps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  if (tf.memory().numTensors !== before) {
    throw new VbnError(
      `bench: tensor count grew from ${before} to ${tf.memory().numTensors} over ${cfg.steps} steps`,
      1,
    );
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    backend,
    best: sorted[0],
    median: sorted[Math.floor(sorted.length / 2)],
    times,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    ...(cfg.profile ? { profile: await profileStep(step) } : {}),
  };
}

/**
 * The first interpreter that imports torch: the project's environment (PyTorch 2, set up by
 * `npm test`), else python3 (Debian's python3-torch is 1.13, an outdated peer: said so).
 */
function torchPython(): { path: string; version: string } | null {
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

function runIsolated(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutS: number,
  label: string,
): Timing {
  // SIGKILL: the CLI treats SIGTERM as 'finish this step', which can take hours on cpu.
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
    env,
    maxBuffer: 1 << 24,
  });
  const failed = (note: string): Timing => ({
    backend: label,
    best: NaN,
    median: NaN,
    times: [],
    peakRssMB: NaN,
    note,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    return failed(`did not finish warm-up + steps within ${timeoutS} s`);
  }
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const t = JSON.parse(last) as Timing;
    if (typeof t.best === 'number') return t;
  } catch {
    /* reported below */
  }
  const why =
    (r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status ?? r.signal}`;
  return failed(`failed: ${why.slice(0, 160)}`);
}

export function benchCommand(ctx: CliContext): Command {
  const cmd = new Command('bench').description(
    'time full training steps (forward, backward, Adam) per backend and against PyTorch at the seed scale',
  );
  addOptions(cmd, BENCH_OPTIONS);
  cmd
    .option(
      '--backend <name>',
      'one backend only: native|wasm|cpu',
      choice(['native', 'wasm', 'cpu'] as const),
    )
    .option('--backends <list>', 'backends to time (default: every available one)')
    .option('--timeout <s>', 'give up on a backend after this many seconds', integer(1), 300)
    .option('--threads <n>', 'threads for native and PyTorch (default: all cores)', integer(1))
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--child', 'internal: time one backend in this process')
    .option('--json', 'print the results as one JSON object')
    .option('--debug', 'show stack traces');
  cmd.action(async (flags: Record<string, unknown>) => {
    const cfg = resolveOptions(BENCH_OPTIONS, givenValues(BENCH_OPTIONS, flags), 'vbn bench');
    const net = resolveNetConfig({ ...cfg, inputShape: [cfg.imageSize, cfg.imageSize, 1] });
    const threads = (flags.threads as number | undefined) ?? availableParallelism();
    if (flags.child) {
      ctx.out(JSON.stringify(await runChild(cfg, flags.backend as BackendName)));
      return;
    }
    const present = await availableBackends();
    let backends: string[] = flags.backend ? [flags.backend as string] : present;
    if (flags.backends) backends = (flags.backends as string).split(',').map((s) => s.trim());
    for (const b of backends) {
      if (!present.includes(b as BackendName)) {
        throw new VbnError(`--backend ${b}: not available here (available: ${present.join(', ')})`);
      }
    }
    const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
    if (!flags.json) ctx.note(`measuring the fp32 FMA ceiling (${threads} threads)...`);
    const ceiling = measureFmaCeiling(threads);
    const results: Timing[] = [];
    for (const b of backends) {
      if (!flags.json) ctx.note(`timing ${b}...`);
      results.push(
        runIsolated(
          process.execPath,
          [BIN, 'bench', '--child', '--backend', b, ...toArgs(BENCH_OPTIONS, cfg)],
          env,
          flags.timeout as number,
          b,
        ),
      );
    }
    let torch: Timing | null = null;
    const py = flags.torch ? torchPython() : null;
    if (flags.torch && !py)
      ctx.note('PyTorch not found (python3 -c "import torch" fails): no comparison');
    if (py) {
      const old = Number(py.version.split('.')[0]) < 2 ? ': PyTorch 1.x, an outdated peer' : '';
      if (!flags.json)
        ctx.note(`timing PyTorch ${py.version} from ${py.path}${old} (${threads} threads)...`);
      torch = runIsolated(
        py.path,
        [TORCH_SCRIPT, JSON.stringify({ ...cfg, numClasses: 2 })],
        env,
        flags.timeout as number,
        'pytorch',
      );
      results.push(torch);
    }
    const flops = convFlopsPerStep(net, cfg.batchSize + cfg.referenceSize);
    const rows = results.map((r) => ({
      ...r,
      imagesPerSecond: cfg.batchSize / r.best,
      convGflops: flops / r.best / 1e9,
      percentOfPeak: ceiling ? (100 * flops) / r.best / 1e9 / ceiling.gflops : null,
      speedupVsTorch: torch && Number.isFinite(torch.best) ? torch.best / r.best : null,
    }));
    const summary: BenchSummary = {
      config: { ...cfg, threads, convGflopPerStep: flops / 1e9 },
      results: rows,
      machine: { cores: availableParallelism(), node: process.version, fmaCeiling: ceiling },
      torch: py ? { version: py.version, python: py.path } : null,
    };
    if (flags.json) ctx.out(JSON.stringify(summary));
    else for (const line of benchReport(summary)) ctx.out(line);
  });
  return cmd;
}

interface BenchRow extends Timing {
  imagesPerSecond: number;
  convGflops: number;
  percentOfPeak: number | null;
  speedupVsTorch: number | null;
}

interface BenchSummary {
  config: BenchConfig & { threads: number; convGflopPerStep: number };
  results: BenchRow[];
  machine: { cores: number; node: string; fmaCeiling: FmaCeiling | null };
  /** The PyTorch compared against (version and interpreter), or null. */
  torch?: { version: string; python: string } | null;
}

const fmt = (v: number | null | undefined, d = 2) =>
  v !== null && v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '-';

/** The text report: the step, the FMA ceiling, one row per backend, and the profile when asked. */
export function benchReport({ config: cfg, results, machine }: BenchSummary): string[] {
  const peak = machine.fmaCeiling;
  const lines = [
    `training step: ${cfg.batchSize} inputs + ${cfg.referenceSize} reference images ${cfg.imageSize}x${cfg.imageSize}x1, filters ${cfg.filters.join('/')}, ${cfg.kernelSize}x${cfg.kernelSize} stride ${cfg.strides} '${cfg.padding}', ${cfg.mode}, ${cfg.strategy}, Adam; ${cfg.convGflopPerStep.toFixed(1)} GFLOP of convolution per step; ${cfg.threads} threads; best and median of ${cfg.steps} steps after 1 warm-up`,
    peak
      ? `fp32 FMA ceiling: ${peak.gflops.toFixed(1)} GFLOP/s (${peak.threads} threads, ${peak.isa}, best of 5 runs by the native engine); % of peak = conv GFLOP/s of the best step / ceiling`
      : 'fp32 FMA ceiling: unknown (measured by the native engine, which is not built here)',
  ];
  const header = ['backend', 's/step best', 'median', 'images/s', 'peak RSS', 'conv GFLOP/s'];
  const body = results.map((r) => [
    r.backend,
    fmt(r.best, 3),
    fmt(r.median, 3),
    fmt(r.imagesPerSecond, 1),
    Number.isFinite(r.peakRssMB) ? `${(r.peakRssMB / 1024).toFixed(2)} GB` : '-',
    fmt(r.convGflops, 1),
    r.percentOfPeak === null ? '-' : `${fmt(r.percentOfPeak, 1)}%`,
    r.speedupVsTorch === null ? '-' : `${fmt(r.speedupVsTorch)}x`,
  ]);
  lines.push(...formatTable([...header, '% of peak', 'vs PyTorch'], body));
  for (const r of results) if (r.note) lines.push(`${r.backend}: ${r.note}`);
  const profiled = results.filter((r) => r.profile);
  if (profiled.length) {
    lines.push(
      '',
      'seconds of one profiled step by pass (other: every other kernel and the JS between):',
    );
    const passes = ['forward', 'backwardData', 'backwardWeights', 'vbn', 'other', 'step'] as const;
    const names = ['forward', 'backward-data', 'backward-weights', 'VBN', 'other', 'step'];
    const table = profiled.map((r) => [r.backend, ...passes.map((p) => fmt(r.profile![p], 3))]);
    lines.push(...formatTable(['backend', ...names], table));
  }
  return lines;
}
