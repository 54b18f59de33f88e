import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { EngineInfo, FmaCeiling, NativeAddon } from './addon-spec.js';

export type { EngineInfo, FmaCeiling, NativeAddon } from './addon-spec.js';

/** The oneDNN + Winograd engine: a Node-API addon built by scripts/build-native.sh. */
const ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/vbn_native.node', import.meta.url),
);

let addon: NativeAddon | null = null;
let loadProblem: string | null = null;

/** Loads the addon once; null when it cannot (addonProblem() says why). */
export function loadAddon(): NativeAddon | null {
  if (addon || loadProblem) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadProblem =
      'the oneDNN addon is not built (npm run setup builds it where libdnnl-dev is installed)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    loadProblem = `the oneDNN addon failed to load (${(e as Error).message.split('\n')[0]})`;
  }
  return addon;
}

/** Why loadAddon() returned null (null before a failed load). */
export function addonProblem(): string | null {
  return loadProblem;
}

/**
 * This machine's fp32 FMA ceiling with `threads` threads, measured by the engine (-march=native):
 * the best of `runs` runs of about 0.05 s (other load on a shared machine only lowers a run).
 * Null without the engine. Leaves the engine at `threads` threads.
 */
export function measureFmaCeiling(threads: number, runs = 5): FmaCeiling | null {
  const a = loadAddon();
  if (!a) return null;
  a.setThreads({ n: threads });
  let best = a.fmaPeak({ rounds: 2e7 });
  for (let i = 1; i < runs; i++) {
    const r = a.fmaPeak({ rounds: 2e7 });
    if (r.gflops > best.gflops) best = r;
  }
  return { gflops: best.gflops, threads: best.threads, isa: best.isa };
}

/** Version and thread count of the loaded engine, or null. */
export function nativeInfo(): EngineInfo | null {
  return loadAddon()?.info() ?? null;
}
