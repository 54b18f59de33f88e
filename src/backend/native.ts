/**
 * The oneDNN engine (issue 5). Until its addon is built, it reports why it is unavailable, so that
 * `--backend auto` falls back in one line and importing vbn never crashes.
 */
export async function registerNativeBackend(): Promise<string | null> {
  return 'the native oneDNN addon is not built in this version';
}
