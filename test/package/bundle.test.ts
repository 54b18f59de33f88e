import { spawnSync } from 'node:child_process';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Bundles `import * from 'vbn'` the way a web app's bundler would (the package from dist/). */
async function bundleForBrowser(): Promise<{ metafile: Metafile; errors: string[] }> {
  try {
    const r = await build({
      stdin: {
        contents: "import * as vbn from 'vbn'; globalThis.vbn = vbn;",
        resolveDir: ROOT,
        loader: 'js',
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return { metafile: r.metafile, errors: [] };
  } catch (e) {
    const errors = (e as { errors?: { text: string }[] }).errors ?? [{ text: String(e) }];
    return { metafile: { inputs: {}, outputs: {} }, errors: errors.map((x) => x.text) };
  }
}

describe("the package for the browser: esbuild --bundle --platform=browser of 'vbn'", () => {
  it('succeeds, resolves to the browser entry, and pulls in no Node built-in or Node-only module', async () => {
    const { metafile, errors } = await bundleForBrowser();
    expect(errors).toEqual([]);
    const inputs = Object.keys(metafile.inputs);
    const ours = inputs.filter((p) => p.startsWith('dist/'));
    expect(ours).toContain('dist/browser.js');
    expect(ours).toContain('dist/vbn/layer.js');
    expect(ours).toContain('dist/backend/wasm-conv-gradients.js');
    // Node-only parts of vbn stay out.
    // The platform split is by folder (eslint.config.js holds the same rule): cli/, any node/
    // folder, and the two Node entry points.
    const nodeOnly = /^dist\/((index|node)\.js$|cli\/|(.+\/)?node\/)/;
    expect(ours.filter((p) => nodeOnly.test(p))).toEqual([]);
    // No import of a Node built-in anywhere, and none of vbn's files needs a stub for one
    // (TensorFlow.js' own packages map theirs to `false` for browsers; ours have none).
    const imports = Object.entries(metafile.inputs).flatMap(([from, i]) =>
      i.imports.map((imp) => ({ from, path: imp.path, external: imp.external === true })),
    );
    expect(imports.filter((i) => i.external)).toEqual([]);
    expect(
      imports.filter(
        (i) => isBuiltin(i.path.replace(/^\(disabled\):/, '')) && i.from.startsWith('dist/'),
      ),
    ).toEqual([]);
    expect(inputs.filter((p) => isBuiltin(p))).toEqual([]);
  });
});

describe("importing 'vbn' in Node", () => {
  it('registers cpu only and sets no backend; ops then run on cpu', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import * as vbn from 'vbn';
      const engine = tf.engine();
      const before = { active: engine.backendName ?? null, registered: Object.keys(engine.registryFactory) };
      const y = vbn.virtualBatchNorm(tf.tensor([[3, 6]]), vbn.referenceStatistics(tf.tensor([[1, 2], [5, 10]])), { mode: 'reference' });
      console.log(JSON.stringify({ before, y: Array.from(y.dataSync()), after: tf.getBackend() }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.before).toEqual({ active: null, registered: ['cpu'] });
    expect(out.y).toEqual([0, 0]); // (3, 6) is the reference mean
    expect(out.after).toBe('cpu');
  });
});
