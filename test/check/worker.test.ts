import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, vbn } from '../support/run-cli.js';

const WORKER = `node ${join(import.meta.dirname, '..', 'fixtures', 'node-worker.mjs')}`;
const run = (args: string[]) => vbn(['check', '--backends', 'cpu', '--steps', '2', ...args]);

/** Exit 2, one line on stderr naming the command, nothing on stdout. */
function expectUsage(r: Awaited<ReturnType<typeof vbn>>, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('vbn check --a-cmd / --b-cmd: a worker in any language (here JavaScript)', () => {
  it('a Node worker speaking the protocol agrees with the built-in, and its runtime is named', async () => {
    const r = await run(['--a-cmd', WORKER]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/node-worker.mjs \(tfjs 4\.22\.0 cpu\) vs two-pass;/);
    expect(r.stdout).toMatch(/all \d+ checks pass/);
  });

  it('a planted epsilon in the worker is caught and named', async () => {
    const r = await run(['--b-cmd', `${WORKER} --epsilon 1e-3`, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.runtimes).toEqual({ [`${WORKER} --epsilon 1e-3`]: 'tfjs 4.22.0 cpu' });
    expect(j.divergence.join('\n')).toMatch(
      /--epsilon 1e-3: its logits match the float64 network with epsilon 1e-3 instead of 1e-5/,
    );
  });

  it('a command that is not found, or that writes other things than protocol lines, is one line and exit 2', async () => {
    expectUsage(
      await run(['--a-cmd', 'vbn-no-such-worker --x']),
      /^vbn: vbn-no-such-worker --x: the worker exited \(code 127\): .*not found/,
    );
    expectUsage(
      await run(['--a-cmd', 'echo hello; sleep 30']),
      /^vbn: echo hello; sleep 30: the worker wrote a line that is not JSON on stdout: hello$/,
    );
    expectUsage(
      await run(['--a', 'x.py', '--a-cmd', 'echo']),
      /^vbn: --a and --a-cmd: give one implementation A, not both$/,
    );
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while a worker works: exit 130 and the worker (and what it started) is gone`, async () => {
      const seconds = signal === 'SIGINT' ? 6371 : 6372;
      const marker = `sleep ${seconds}`; // the worker's command line, not vbn's (which has $((...)))
      const child = spawn(
        process.execPath,
        [BIN, 'check', '--a-cmd', `sleep $((${seconds})); true`],
        {
          stdio: 'ignore',
        },
      );
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      for (let i = 0; i < 200 && running(marker).length === 0; i++) await sleep(100);
      expect(running(marker).length).toBeGreaterThan(0);
      child.kill(signal);
      expect(await exited).toBe(130);
      expect(running(marker)).toEqual([]);
    });
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Processes whose command line contains `text`. */
function running(text: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}
