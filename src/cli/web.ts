import { Command, InvalidArgumentError } from 'commander';
import { WEB_DEFAULTS, startWebServer } from '../web/node/server.js';
import type { CliContext } from './context.js';
import { integer } from './parse.js';

function portNumber(value: string): number {
  const v = integer(0)(value);
  if (v > 65535) throw new InvalidArgumentError('expected a port number 0-65535.');
  return v;
}

/** `vbn web`: serves the training page until Ctrl-C. */
export function webCommand(ctx: CliContext): Command {
  return new Command('web')
    .description('serve the in-browser training page (MNIST, live curves, agreement checks)')
    .option('--port <n>', 'port to listen on (0: any free one)', portNumber, WEB_DEFAULTS.port)
    .option(
      '--host <address>',
      'address to bind (other machines can connect if not loopback)',
      WEB_DEFAULTS.host,
    )
    .option('--debug', 'print stack traces of internal errors')
    .action(async (flags: { port: number; host: string }) => {
      const server = await startWebServer({ host: flags.host, port: flags.port });
      ctx.setStopNote('vbn web: stopping the server...');
      ctx.out(`vbn web: serving ${server.url} (Ctrl-C to stop)`);
      while (!ctx.stopRequested()) await new Promise((r) => setTimeout(r, 100));
      await server.close();
      ctx.note('vbn web: stopped');
    });
}
