import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest's global setup: every test worker (and every process a test starts) makes its temporary
 * files under one fresh folder, removed when the run ends, so a test run leaves nothing in the
 * system's temporary folder, also where a test fails before its own clean-up.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'vbn-tests-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
