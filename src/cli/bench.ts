import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatTable } from '../util/table.js';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_NAMES,
  availableBackends,
  useBackend,
  type BackendName,
} from '../backend/node/select.js';
import { VbnError } from '../errors.js';
import { convOut, resolveNetConfig, type ResolvedNetConfig } from '../model/config.js';
import { createVbnNet } from '../model/net.js';
import { trainStep } from '../train/step.js';
import { measureFmaCeiling, type FmaCeiling } from '../backend/node/native.js';
import { profileStep, type PassTimes } from './bench-profile.js';
import { ganFlopsPerStep, ganStepDescription, runGanChild, torchGanArgs } from './bench-gan.js';
import {
  type ChildTiming,
  interleave,
  timeSteps,
  median,
  processorName,
  runIsolated,
  torchPython,
  vectorBits,
} from './bench-run.js';
import { resolveGanTrainConfig } from '../gan/config.js';
import { tfSeed } from '../util/random.js';
import type { CliContext } from './context.js';
import { addOptions } from './flags.js';
import { choice, integer } from './parse.js';
import { BENCH_OPTIONS, type BenchConfig } from './bench-options.js';
import { attributeOf, flagName, givenValues, resolveOptions, toArgs } from '../options/schema.js';

const BIN = fileURLToPath(new URL('../../bin/vbn.js', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_step.py', import.meta.url));
const TORCH_GAN_SCRIPT = fileURLToPath(new URL('../../bench/torch_gan_step.py', import.meta.url));
/** The demo's step (`npm run demo`): MNIST's 28x28 images, stride 2. */
const DEMO = { imageSize: 28, strides: 2 };

interface Timing extends ChildTiming {
  /** One more step under tf.profile, split by pass (with --profile). */
  profile?: PassTimes;
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
  const timed = timeSteps(step, cfg.steps, 'bench');
  return {
    backend,
    ...timed,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    ...(cfg.profile ? { profile: await profileStep(step) } : {}),
  };
}

/** A step option that --gan or --demo fixes, given on the command line: refused, not ignored. */
function refuseFixed(cmd: Command, flags: Record<string, unknown>): void {
  if (flags.gan && flags.demo)
    throw new VbnError('vbn bench: --gan and --demo time different steps; give one');
  const mode = flags.gan ? '--gan' : flags.demo ? '--demo' : null;
  if (!mode) return;
  const fixed = flags.gan
    ? (Object.keys(BENCH_OPTIONS) as (keyof typeof BENCH_OPTIONS)[]).filter((k) => k !== 'steps')
    : (Object.keys(DEMO) as (keyof typeof DEMO)[]);
  for (const k of fixed) {
    const o = BENCH_OPTIONS[k];
    if (cmd.getOptionValueSource(attributeOf(o)) === 'cli') {
      throw new VbnError(
        `vbn bench: ${flagName(o)} does not apply with ${mode}, which times ${flags.gan ? "vbn gan's default step" : "the demo's step (28x28 images, stride 2)"}; leave it out`,
      );
    }
  }
}

export function benchCommand(ctx: CliContext): Command {
  const cmd = new Command('bench').description(
    'time full training steps (forward, backward, Adam) per backend and against PyTorch at the seed scale',
  );
  addOptions(cmd, BENCH_OPTIONS);
  cmd
    .option(
      '--backend <name>',
      `one backend only: ${BACKEND_NAMES.join('|')}`,
      choice(BACKEND_NAMES),
    )
    .option('--backends <list>', 'backends to time (default: every available one)')
    .option('--timeout <s>', 'give up on a backend after this many seconds', integer(1), 300)
    .option('--threads <n>', 'threads for native and PyTorch (default: all cores)', integer(1))
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--demo', "the demo's step (npm run demo: 28x28 images, stride 2)")
    .option('--gan', "vbn gan's default step (against the same step in PyTorch)")
    .option(
      '--rounds <n>',
      'alternate the backends and PyTorch n times (default 3 with --demo or --gan, else 1)',
      integer(1),
    )
    .option('--child', 'internal: time one backend in this process')
    .option('--json', 'print the results as one JSON object')
    .option('--debug', 'show stack traces');
  cmd.action(async (flags: Record<string, unknown>) => {
    if (!flags.child) refuseFixed(cmd, flags);
    if (flags.demo) Object.assign(flags, DEMO);
    // Short steps: more of them than the seed step's default.
    if ((flags.demo || flags.gan) && cmd.getOptionValueSource('steps') !== 'cli') {
      flags.steps = flags.demo ? 30 : 10;
    }
    const cfg = resolveOptions(BENCH_OPTIONS, givenValues(BENCH_OPTIONS, flags), 'vbn bench');
    const net = resolveNetConfig({ ...cfg, inputShape: [cfg.imageSize, cfg.imageSize, 1] });
    const threads = (flags.threads as number | undefined) ?? availableParallelism();
    if (flags.child) {
      const b = flags.backend as BackendName;
      const t = flags.gan ? await runGanChild(b, cfg.steps) : await runChild(cfg, b);
      ctx.out(JSON.stringify(t));
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
    const py = flags.torch ? torchPython() : null;
    if (flags.torch && !py)
      ctx.note('PyTorch not found (python3 -c "import torch" fails): no comparison');
    const rounds = (flags.rounds as number | undefined) ?? (flags.gan || flags.demo ? 3 : 1);
    const mode = flags.gan ? ['--gan'] : [];
    const children = backends.map((b) => ({
      label: b,
      run: () => {
        if (!flags.json) ctx.note(`timing ${b}...`);
        const args = [
          BIN,
          'bench',
          '--child',
          '--backend',
          b,
          ...mode,
          ...toArgs(BENCH_OPTIONS, cfg),
        ];
        return runIsolated<Timing>(process.execPath, args, env, flags.timeout as number, b);
      },
    }));
    if (py) {
      const old = Number(py.version.split('.')[0]) < 2 ? ': PyTorch 1.x, an outdated peer' : '';
      const args = flags.gan
        ? [TORCH_GAN_SCRIPT, torchGanArgs(cfg.steps)]
        : [TORCH_SCRIPT, JSON.stringify({ ...cfg, numClasses: 2 })];
      children.push({
        label: 'pytorch',
        run: () => {
          if (!flags.json)
            ctx.note(`timing PyTorch ${py.version} from ${py.path}${old} (${threads} threads)...`);
          return runIsolated<Timing>(py.path, args, env, flags.timeout as number, 'pytorch');
        },
      });
    }
    const results = interleave(rounds, children);
    const torch = results.find((r) => r.backend === 'pytorch') ?? null;
    const flops = flags.gan
      ? ganFlopsPerStep(resolveGanTrainConfig({}))
      : convFlopsPerStep(net, cfg.batchSize + cfg.referenceSize);
    const rows = results.map((r) => ({
      ...r,
      imagesPerSecond: cfg.batchSize / r.best,
      convGflops: flops / r.best / 1e9,
      percentOfPeak: ceiling ? (100 * flops) / r.best / 1e9 / ceiling.gflops : null,
      speedupVsTorch: torch && Number.isFinite(torch.best) ? torch.best / r.best : null,
    }));
    const summary: BenchSummary = {
      config: { ...cfg, threads, convGflopPerStep: flops / 1e9, rounds },
      ...(flags.gan ? { step: ganStepDescription() } : {}),
      results: rows,
      machine: {
        cores: availableParallelism(),
        node: process.version,
        processor: processorName(),
        fmaCeiling: ceiling,
      },
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
  config: BenchConfig & { threads: number; convGflopPerStep: number; rounds?: number };
  /** What was timed, when not the training step that config describes (--gan). */
  step?: string;
  results: BenchRow[];
  machine: { cores: number; node: string; processor?: string; fmaCeiling: FmaCeiling | null };
  /** The PyTorch compared against (version and interpreter), or null. */
  torch?: { version: string; python: string } | null;
}

const fmt = (v: number | null | undefined, d = 2) =>
  v !== null && v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '-';

/** The text report: the step, the FMA ceiling, one row per backend, and the profile when asked. */
export function benchReport({ config: cfg, step, results, machine }: BenchSummary): string[] {
  const peak = machine.fmaCeiling;
  const bits = peak ? vectorBits(peak.isa) : null;
  const rounds =
    cfg.rounds && cfg.rounds > 1 ? `, ${cfg.rounds} rounds alternating the backends` : '';
  const timed = `${cfg.convGflopPerStep.toFixed(1)} GFLOP of convolution per step; ${cfg.threads} threads; best and median of ${cfg.steps} steps after warm-up${rounds}`;
  const lines = [
    `processor: ${machine.processor ?? 'unknown'}, ${machine.cores} cores; vectors: ${bits ? `${bits}-bit (${peak!.isa})` : 'unknown'}`,
    step
      ? `${step}; ${timed}`
      : `training step: ${cfg.batchSize} inputs + ${cfg.referenceSize} reference images ${cfg.imageSize}x${cfg.imageSize}x1, filters ${cfg.filters.join('/')}, ${cfg.kernelSize}x${cfg.kernelSize} stride ${cfg.strides} '${cfg.padding}', ${cfg.mode}, ${cfg.strategy}, Adam; ${timed}`,
    peak
      ? `fp32 FMA ceiling: ${peak.gflops.toFixed(1)} GFLOP/s (${peak.threads} threads, ${peak.isa}, best of 5 runs by the native engine); % of peak = conv GFLOP/s of the best step / ceiling`
      : 'fp32 FMA ceiling: unknown (measured by the native engine, which is not built here)',
  ];
  const header = ['backend', 's/step best', 'median', 'CPU s median', 'images/s', 'peak RSS'];
  const body = results.map((r) => [
    r.backend,
    fmt(r.best, 3),
    fmt(r.median, 3),
    fmt(median(r.cpuTimes ?? []), 3),
    fmt(r.imagesPerSecond, 1),
    Number.isFinite(r.peakRssMB) ? `${(r.peakRssMB / 1024).toFixed(2)} GB` : '-',
    fmt(r.convGflops, 1),
    r.percentOfPeak === null ? '-' : `${fmt(r.percentOfPeak, 1)}%`,
    r.speedupVsTorch === null ? '-' : `${fmt(r.speedupVsTorch)}x`,
  ]);
  lines.push(...formatTable([...header, 'conv GFLOP/s', '% of peak', 'vs PyTorch'], body));
  lines.push(
    'CPU s: process CPU time (all threads) per step, median; less sensitive than wall time to other load on the machine',
  );
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
