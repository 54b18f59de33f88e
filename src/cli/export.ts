import { Command } from 'commander';
import { useBackend, type BackendChoice } from '../backend/node/select.js';
import { exportOnnx } from '../export/node/export-onnx.js';
import { printJson, type CliContext } from './context.js';
import { runtimeFlags } from './flags.js';

const shape = (s: (number | string)[]) => `[${s.join(',')}]`;

export function exportCommand(ctx: CliContext): Command {
  const cmd = new Command('export')
    .description(
      'export a vbn train classifier or a vbn gan generator to ONNX (opset 17, dynamic batch) for onnxruntime and other engines',
    )
    .requiredOption(
      '--checkpoint <dir>',
      'a checkpoint folder, or a run folder (a classifier run: its best; a GAN run: its last)',
    )
    .requiredOption('--out <file>', 'the .onnx file to write (written whole or not at all)')
    .option('--force', 'replace --out if it exists')
    .option('--last', 'a classifier run folder: its last checkpoint instead of the best');
  runtimeFlags(cmd);
  cmd.action(
    async (flags: {
      checkpoint: string;
      out: string;
      force?: boolean;
      last?: boolean;
      backend: BackendChoice;
      threads?: number;
      json?: boolean;
    }) => {
      await useBackend(flags.backend, undefined, { threads: flags.threads });
      const s = exportOnnx(flags);
      ctx.out(
        `${s.out}: ${s.kind}, ${s.input.name} ${shape(s.input.shape)} -> ${s.output.name} ${shape(s.output.shape)}, ${(s.bytes / 1024).toFixed(1)} KiB, from ${s.checkpoint}`,
      );
      if (flags.json) printJson(ctx, s);
    },
  );
  return cmd;
}
