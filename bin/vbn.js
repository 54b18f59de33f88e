#!/usr/bin/env node
// The vbn command. The TypeScript sources are compiled to dist/ by `npm run setup`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('vbn: not built yet; run `npm run setup` in the repository first\n');
  process.exit(2);
}
const { run } = await import(entry.href);
process.exitCode = await run(process.argv);
