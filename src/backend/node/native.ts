/**
 * The native backend's public face. Its parts, one concern each: addon-spec.ts (the addon's
 * entry points and named arguments: the one table), addon.ts (loading it, the FMA probe),
 * memory.ts (allocation policy), onednn-kernels.ts and vbn-kernels.ts (the kernels),
 * register.ts (the backend and the one list of its kernels).
 */
export { loadAddon, measureFmaCeiling, nativeInfo } from './addon.js';
export type { EngineInfo, FmaCeiling, NativeAddon } from './addon-spec.js';
export { MAX_THREADS, registerNativeBackend } from './register.js';
