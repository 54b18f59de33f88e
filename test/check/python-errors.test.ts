import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describePython, EXAMPLES, PY_FIXTURES, ROOT } from '../support/python-suite.js';
import { BIN, vbn, type CliResult } from '../support/run-cli.js';

const fixture = (name: string) => join(PY_FIXTURES, `${name}.py`);

/** Python workers running `path` (vbn's own command line names the file, but not the worker). */
function processesOf(path: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(path) && l.includes('vbn_worker.py'));
}

/** Exit 2, one line on stderr (no stack), nothing on stdout, no worker of the file left. */
function expectBadInput(r: CliResult, file: string, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^vbn: /);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(pattern);
  expect(processesOf(file)).toEqual([]);
}

const check = (file: string, extra: string[] = []) =>
  vbn(['check', '--a', file, '--backends', 'cpu', '--steps', '1', ...extra]);

describePython('vbn check on Python implementations: bad input', () => {
  const cases: [string, RegExp][] = [
    [
      'bad_no_apply',
      /: the file must define apply\(params, reference, inputs\) \(FRAMEWORK = 'numpy'\)$/,
    ],
    [
      'bad_framework',
      /: FRAMEWORK = 'mxnet' is not one of torch, tensorflow, tensorflow-v1, jax, numpy$/,
    ],
    [
      'bad_raises',
      /: apply raised ValueError: inputs must be \[B, C, H, W\] but have shape \(5, 12, 12, 1\) \(line 7\)$/,
    ],
    ['bad_shape', /: returned logits of shape \[2,5\] but expected \[5,2\]$/],
    ['bad_dtype', /: returned logits of dtype float64 but expected float32$/],
    ['bad_nan', /: returned logits with 1 of 10 values NaN or infinite$/],
    ['bad_missing_grad', /: returned no gradient for parameter 'dense\/bias'$/],
    ['bad_exits', /: the worker exited \(code 3\)$/],
    [
      'bad_parameter',
      /: asks for parameter 'conv1\/weights', which the network does not have \(parameters: conv0\/kernel, .*dense\/bias\)$/,
    ],
  ];
  for (const [name, pattern] of cases) {
    it(`${name}: one line naming the file, exit 2`, async () => {
      expectBadInput(await check(fixture(name)), fixture(name), pattern);
    });
  }

  it('a worker that hangs is stopped after --worker-timeout', async () => {
    const t = Date.now();
    const r = await check(fixture('bad_hangs'), ['--worker-timeout', '3']);
    expectBadInput(
      r,
      fixture('bad_hangs'),
      /: the worker did not answer 'forward' within 3 s \(--worker-timeout\); stopped it$/,
    );
    expect(Date.now() - t).toBeLessThan(60_000);
  });

  it('a framework that is not installed, and a missing interpreter', async () => {
    const file = fixture('torch_correct');
    const noTorch = join(PY_FIXTURES, 'python-without-torch.sh');
    expectBadInput(
      await check(file, ['--python', noTorch]),
      file,
      /: FRAMEWORK = 'torch' but torch is not installed for .*\.venv\/bin\/python/,
    );
    expectBadInput(
      await check(file, ['--python', '/nonexistent/python3']),
      file,
      /: no Python interpreter at '\/nonexistent\/python3' \(from --python; .*\)$/,
    );
    const env = vbnWithEnv({ VBN_PYTHON: '/nonexistent/python3' }, ['check', '--a', file]);
    expectBadInput(
      await env,
      file,
      /no Python interpreter at '\/nonexistent\/python3' \(from VBN_PYTHON;/,
    );
  });

  it('Ctrl-C (SIGINT) during a request stops vbn with 130 and leaves no worker', async () => {
    const file = fixture('bad_hangs');
    const child = spawn(process.execPath, [BIN, 'check', '--a', file, '--backends', 'cpu'], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (let i = 0; i < 200 && processesOf(file).length === 0; i++) await sleep(100);
    expect(processesOf(file).length).toBeGreaterThan(0);
    await sleep(1500); // inside apply's sleep by now
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(processesOf(file)).toEqual([]);
  });

  it('leaves no __pycache__ next to the files it ran, nor in the shipped worker folder', () => {
    for (const dir of [PY_FIXTURES, EXAMPLES, join(ROOT, 'python')])
      expect(existsSync(join(dir, '__pycache__')), dir).toBe(false);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function vbnWithEnv(env: Record<string, string>, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
