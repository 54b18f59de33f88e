import { cpSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { onnx } from 'onnx-proto';
import { decodeModel } from '../../src/export/onnx-graph.js';
import { imageFolder, tempDir } from '../support/fixtures.js';
import { vbn, type CliResult } from '../support/run-cli.js';

const data = imageFolder(tempDir(), { classes: 2, perClass: 10, size: 8 });
const dir = tempDir('vbn-export-cli-');
const run = join(dir, 'run');
/** The files of a folder, temporary ones included (a failed write must leave none). */
const files = (folder: string) => readdirSync(folder).sort();

/** One line on stderr, exit 2, no stack trace. */
function refused(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  const r = await vbn([
    ...['train', '--data', data, '--filters', '2,3', '--reference-size', '4', '--batch-size', '4'],
    ...['--epochs', '1', '--quiet', '--no-plots', '--out', run],
  ]);
  expect(r.code, r.stderr).toBe(0);
});

describe('vbn export: the file it writes', () => {
  it('is an opset-17 model with a dynamic batch, frozen statistics and its class names', async () => {
    const out = join(dir, 'model.onnx');
    const r = await vbn(['export', '--checkpoint', run, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /model\.onnx: classifier, images \[batch,8,8,1\] -> logits \[batch,2\]/,
    );
    const m = decodeModel(readFileSync(out));
    const graph = m.graph!;
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(Number(m.irVersion)).toBe(8);
    const dims = (v: onnx.IValueInfoProto) =>
      v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(graph.input!.map((v) => [v.name, dims(v)])).toEqual([['images', ['batch', 8, 8, 1]]]);
    expect(graph.output!.map((v) => [v.name, dims(v)])).toEqual([['logits', ['batch', 2]]]);
    const constants = graph.initializer!.map((t) => t.name);
    for (const i of [0, 1]) {
      for (const s of ['pivot', 'offset', '(1-w)variance', 'gamma', 'beta']) {
        expect(constants).toContain(`vbn${i}/${s}`);
      }
    }
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta).toMatchObject({ kind: 'classifier', mode: 'virtual', referenceSize: '4' });
    expect(JSON.parse(meta.classNames)).toEqual(['class_0', 'class_1']);
  });
});

describe('vbn export: bad input gets one line, exit 2, and nothing written', () => {
  it('a folder that is not a checkpoint, a missing folder, a damaged checkpoint', async () => {
    const out = join(dir, 'bad');
    mkdirSync(out);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    refused(
      await vbn(['export', '--checkpoint', empty, '--out', join(out, 'm.onnx')]),
      /--checkpoint .*empty: not a vbn checkpoint/,
    );
    refused(
      await vbn(['export', '--checkpoint', join(dir, 'nowhere'), '--out', join(out, 'm.onnx')]),
      /--checkpoint .*nowhere: no such folder/,
    );
    const damaged = join(dir, 'damaged');
    cpSync(join(run, 'last'), damaged, { recursive: true, dereference: true });
    truncateSync(join(damaged, 'weights.bin'), 10);
    refused(
      await vbn(['export', '--checkpoint', damaged, '--out', join(out, 'm.onnx')]),
      /weights\.bin: truncated/,
    );
    writeFileSync(join(empty, 'checkpoint.json'), '{"format": "something else"}');
    refused(
      await vbn(['export', '--checkpoint', empty, '--out', join(out, 'm.onnx')]),
      /checkpoint\.json: not a vbn checkpoint/,
    );
    expect(files(out)).toEqual([]);
  });

  it('an --out that cannot be written: a missing folder, a folder, a place nobody may write', async () => {
    refused(
      await vbn(['export', '--checkpoint', run, '--out', join(dir, 'no', 'm.onnx')]),
      /--out .*m\.onnx: the folder .*no does not exist/,
    );
    const folder = join(dir, 'a-folder.onnx');
    mkdirSync(folder);
    refused(
      await vbn(['export', '--checkpoint', run, '--out', folder, '--force']),
      /--out .*a-folder\.onnx: is a folder/,
    );
    // /proc takes no new files, not even from root.
    refused(
      await vbn(['export', '--checkpoint', run, '--out', '/proc/vbn-export-test.onnx']),
      /--out \/proc\/vbn-export-test\.onnx: cannot write/,
    );
    expect(files(folder)).toEqual([]);
  });

  it('an existing file, unless --force (which replaces it whole)', async () => {
    const out = join(dir, 'existing');
    mkdirSync(out);
    const file = join(out, 'm.onnx');
    writeFileSync(file, 'mine');
    refused(
      await vbn(['export', '--checkpoint', run, '--out', file]),
      /--out .*m\.onnx: the file exists \(--force replaces it\)/,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine');
    const r = await vbn(['export', '--checkpoint', run, '--out', file, '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeModel(readFileSync(file)).graph!.output![0].name).toBe('logits');
    expect(files(out)).toEqual(['m.onnx']);
  });
});
