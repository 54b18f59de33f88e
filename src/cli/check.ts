import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, type BackendName } from '../backend/node/select.js';
import { formatReport, reportJson } from '../check/report.js';
import { CHECK_TOLERANCES, runCheck } from '../check/run.js';
import { isExternal, type AnyImplementation } from '../check/evaluate.js';
import { DEFAULT_WORKER_TIMEOUT } from '../check/node/python.js';
import { killAllWorkers } from '../check/node/worker.js';
import { CHECK_DEFAULTS, closeCheck, prepareCheck } from '../check/node/setup.js';
import { NET_DEFAULTS } from '../model/config.js';
import type { VbnNetConfig } from '../model/config.js';
import { VbnError } from '../errors.js';
import type { CliContext } from './context.js';
import { addOptions } from './flags.js';
import { givenValues, pick, withDefaults } from '../options/schema.js';
import { NET_OPTIONS } from '../model/options.js';
import { TRAIN_OPTIONS } from '../train/options.js';
import { loadModel } from '../train/node/load-model.js';
import { choice, integer, positiveNumber, timeoutSeconds } from './parse.js';

/** The network and batch options `vbn check` honours, shown with its defaults (CHECK_DEFAULTS). */
const CHECK_NETWORK_OPTIONS = withDefaults(
  { ...NET_OPTIONS, ...pick(TRAIN_OPTIONS, ['batchSize', 'referenceSize', 'seed']) },
  { ...CHECK_DEFAULTS, filters: [...CHECK_DEFAULTS.filters] },
);

export function checkCommand(ctx: CliContext): Command {
  const cmd = new Command('check').description(
    'prove that two implementations of the network agree: logits, gradients, fetch invariance, determinism, backends, float64, finite differences, trajectories',
  );
  addOptions(cmd, CHECK_NETWORK_OPTIONS);
  cmd
    .option(
      '--image-size <n>',
      `input images are N x N (default: ${CHECK_DEFAULTS.imageSize})`,
      integer(1),
    )
    .option('--channels <n>', `input channels (default: ${CHECK_DEFAULTS.channels})`, integer(1))
    .option('--channels-first', 'feed inputs as [B, C, H, W]')
    .option('--classes <n>', `number of classes (default: ${NET_DEFAULTS.numClasses})`, integer(1))
    .option('--checkpoint <dir>', "use a checkpoint's network, weights and reference")
    .option(
      '--a <file>',
      "implementation A: a module exporting apply(params, reference, inputs), or a Python file (.py) (default: built-in 'concat')",
    )
    .option('--b <file>', "implementation B (default: built-in 'two-pass')")
    .option(
      '--a-cmd <command>',
      'implementation A: a command starting a worker that speaks docs/check-protocol.md',
    )
    .option('--b-cmd <command>', 'implementation B as a worker command')
    .option(
      '--python <path>',
      'Python interpreter for .py files (default: $VBN_PYTHON, else .venv/bin/python when set up, else python3)',
    )
    .option(
      '--worker-timeout <seconds>',
      'seconds each request to a worker may take',
      timeoutSeconds,
      DEFAULT_WORKER_TIMEOUT,
    )
    .option(
      '--backends <list>',
      'backends to compare on (default: every available one)',
      (v: string) => v.split(',').map((s) => choice(BACKEND_NAMES)(s.trim())),
    )
    .option('--steps <k>', 'optimizer steps of the trajectory check', integer(0), 20)
    .option('--lr <rate>', 'learning rate of the trajectory check (Adam)', positiveNumber, 0.01)
    .option(
      '--tolerance <t>',
      `relative tolerance ||a-b||/||b|| (default ${CHECK_TOLERANCES.relNorm})`,
      positiveNumber,
    )
    .option('--json', 'print the report as one JSON object')
    .option('--debug', 'show stack traces');
  cmd.action(async (flags: Record<string, unknown>) => {
    const size = (flags.imageSize as number | undefined) ?? CHECK_DEFAULTS.imageSize;
    const channels = (flags.channels as number | undefined) ?? CHECK_DEFAULTS.channels;
    const first = Boolean(flags.channelsFirst);
    const network: Partial<VbnNetConfig> = {
      ...givenValues(NET_OPTIONS, flags),
      inputShape: first ? [channels, size, size] : [size, size, channels],
      numClasses: flags.classes as number | undefined,
      dataFormat: first ? 'channelsFirst' : 'channelsLast',
    };
    if (network.numClasses === undefined) delete network.numClasses;
    for (const side of ['a', 'b'])
      if (flags[side] !== undefined && flags[`${side}Cmd`] !== undefined)
        throw new VbnError(
          `--${side} and --${side}-cmd: give one implementation ${side.toUpperCase()}, not both`,
        );
    const model = flags.checkpoint ? loadModel(flags.checkpoint as string) : undefined;
    // Ctrl-C or SIGTERM: no worker may outlive the check.
    ctx.setStopNote('vbn check: interrupted; stopping the workers');
    const interrupt = () => {
      killAllWorkers();
      process.exit(130);
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    try {
      await checkWith(ctx, flags, network, model);
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  });
  return cmd;
}

const describeImpl = (i: AnyImplementation) =>
  isExternal(i) ? `${i.name} (${i.runtime})` : i.name;

async function checkWith(
  ctx: CliContext,
  flags: Record<string, unknown>,
  network: Partial<VbnNetConfig>,
  model: ReturnType<typeof loadModel> | undefined,
): Promise<void> {
  const options = await prepareCheck({
    network,
    model,
    a: flags.a as string | undefined,
    b: flags.b as string | undefined,
    aCmd: flags.aCmd as string | undefined,
    bCmd: flags.bCmd as string | undefined,
    python: flags.python as string | undefined,
    workerTimeout: flags.workerTimeout as number,
    backends: flags.backends as BackendName[] | undefined,
    referenceSize: flags.referenceSize as number | undefined,
    batchSize: flags.batchSize as number | undefined,
    seed: flags.seed as number | undefined,
    steps: flags.steps as number,
    lr: flags.lr as number,
    tolerance: flags.tolerance as number | undefined,
  });
  if (model) tf.dispose([model.reference, ...Object.values(model.params)]);
  let report;
  try {
    report = await runCheck(options);
  } finally {
    await closeCheck(options);
  }
  const { net, a, b, data, backends } = options;
  const runtimes = Object.fromEntries([a, b].filter(isExternal).map((i) => [i.name, i.runtime]));
  if (flags.json) {
    ctx.out(reportJson(report, { compared: `${a.name} vs ${b.name}`, backends, runtimes }));
  } else {
    const c = net.config;
    ctx.out(
      `${describeImpl(a)} vs ${describeImpl(b)}; network ${c.inputShape.join('x')} ${c.dataFormat}, filters ${c.filters.join(',')}, kernel ${c.kernelSize}, stride ${c.strides}, '${c.padding}', mode ${c.mode}; reference ${data.reference.shape[0]}, batch ${data.inputs.shape[0]}; backends ${backends.join(', ')}`,
    );
    ctx.out('');
    ctx.out(formatReport(report));
  }
  if (!report.ok) ctx.setExitCode(1);
}
