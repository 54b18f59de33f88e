// Bundles the `vbn web` page (src/web/page) into dist/web/page: app.js (esbuild, browser, ESM,
// minified) and index.html. Run by `npm run build` and scripts/setup.sh after tsc.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web/page`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${root}src/web/page/main.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  outfile: `${out}/app.js`,
  logLevel: 'warning',
});
copyFileSync(`${root}src/web/page/index.html`, `${out}/index.html`);
