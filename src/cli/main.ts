import * as tf from '@tensorflow/tfjs-core';
import { Command, CommanderError } from 'commander';
import '../backend/node/select.js';
import { VbnError } from '../errors.js';
import type { CliContext } from './context.js';
import { evalCommand } from './eval.js';
import { trainCommand } from './train.js';
import { extraCommands } from './extra.js';
import { webCommand } from './web.js';
import { packageVersion } from '../util/node/package-version.js';
import { ganCommand } from './gan.js';
import { ganEvalCommand } from './gan-eval.js';
import { ganSampleCommand } from './gan-sample.js';
import { exportCommand } from './export.js';

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad input or usage, 130 interrupted). */
export async function run(argv: string[]): Promise<number> {
  tf.enableProdMode(); // silences tfjs' console banner; checks vbn needs are its own
  let exitCode = 0;
  let stop = false;
  let stopNote = 'stopping after this step (Ctrl-C again to abort)...';
  const onSignal = () => {
    if (stop) process.exit(130); // a second Ctrl-C stops at once
    stop = true;
    process.stderr.write(stopNote + '\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CliContext = {
    out: (line) => process.stdout.write(line + '\n'),
    note: (line) => process.stderr.write(line + '\n'),
    stopRequested: () => stop,
    setStopNote: (line) => (stopNote = line),
    setExitCode: (c) => (exitCode = c),
  };
  const program = new Command('vbn')
    .description('virtual batch normalization for TensorFlow.js: train, evaluate, check, benchmark')
    .version(packageVersion(), '-V, --version', 'print the version of vbn')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  program.addCommand(trainCommand(ctx));
  program.addCommand(evalCommand(ctx));
  for (const c of extraCommands(ctx)) program.addCommand(c);
  program.addCommand(webCommand(ctx));
  for (const c of [
    ganCommand(ctx),
    ganEvalCommand(ctx),
    ganSampleCommand(ctx),
    exportCommand(ctx),
  ]) {
    program.addCommand(c);
  }
  for (const c of program.commands) c.exitOverride();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof VbnError) {
      process.stderr.write(`vbn: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(
      `vbn: internal error: ${err?.message ?? String(e)}${debug ? '' : ' (run with --debug for the stack trace)'}\n`,
    );
    if (debug) process.stderr.write(`${err?.stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
