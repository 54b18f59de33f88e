import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.js';
import { describeNative } from '../support/native-suite.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the package ships sources, not a machine-specific native build', () => {
  it('npm pack holds native/src, binding.gyp and the build script, never native/build', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path);
    expect(files.filter((f) => f.startsWith('native/build') || f.endsWith('.node'))).toEqual([]);
    for (const f of ['native/binding.gyp', 'native/src/vbn.cc', 'scripts/build-native.sh']) {
      expect(files).toContain(f);
    }
    expect(files).toContain('dist/index.js');
  });
});

describeNative('scripts/build-native.sh', () => {
  it('finds oneDNN through the compiler search path and refuses 3.x in one line', () => {
    // A copy of the script and sources, and a oneDNN 3.4 version header that CPATH puts first on
    // the compiler's search path (the real 2.x headers stay where they are).
    const dir = tempDir('vbn-native-build-');
    try {
      mkdirSync(join(dir, 'inc', 'oneapi', 'dnnl'), { recursive: true });
      writeFileSync(
        join(dir, 'inc', 'oneapi', 'dnnl', 'dnnl_version.h'),
        '#define DNNL_VERSION_MAJOR 3\n#define DNNL_VERSION_MINOR 4\n',
      );
      cpSync(
        join(ROOT, 'scripts', 'build-native.sh'),
        join(dir, 'pkg', 'scripts', 'build-native.sh'),
      );
      cpSync(join(ROOT, 'native', 'src'), join(dir, 'pkg', 'native', 'src'), { recursive: true });
      cpSync(join(ROOT, 'native', 'binding.gyp'), join(dir, 'pkg', 'native', 'binding.gyp'));
      const run = (env: Record<string, string>) =>
        spawnSync('bash', [join(dir, 'pkg', 'scripts', 'build-native.sh')], {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        });
      const r = run({ CPATH: join(dir, 'inc') });
      expect(r.stdout + r.stderr).toBe('native: oneDNN 3.x found, 2.x needed\n');
      expect(r.status).toBe(1);
      expect(existsSync(join(dir, 'pkg', 'native', 'build'))).toBe(false);
      const noCompiler = run({ CXX: 'no-such-compiler' });
      expect(noCompiler.stdout).toBe(
        'native: no C++ compiler (no-such-compiler; Debian package g++)\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
