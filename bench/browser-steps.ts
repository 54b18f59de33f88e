// Step times of the page's training session in headless Chromium, per browser backend.
// Usage: npx tsx bench/browser-steps.ts [steps=10]. Needs /usr/bin/chromium and `npm run build`.
// Here WebGL and WebGPU run on SwiftShader (a software GPU): not GPU numbers.
import {
  harnessBundle,
  launchChromium,
  openPage,
  serveHarness,
  startWebServer,
} from '../test/support/browser.js';
import type { Harnessed } from '../test/support/browser-api.js';

const steps = Number(process.argv[2] ?? 10);
const configs = [
  { filters: [8, 16, 32], batch: 32 },
  { filters: [16, 32, 64], batch: 32 },
];
const [browser, server] = await Promise.all([launchChromium(), startWebServer({ port: 0 })]);
try {
  const { page } = await openPage(browser);
  await serveHarness(page, server, await harnessBundle());
  console.log(`| backend | filters | batch = reference | ms/step (median of ${steps}) | steps/s |`);
  console.log('| --- | --- | --- | --- | --- |');
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
    for (const c of configs) {
      const ms = await page.evaluate(
        ([b, f, n, k]) => (globalThis as unknown as Harnessed).harness.timeSteps(b, f, n, k),
        [backend, c.filters, c.batch, steps] as const,
      );
      const median = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
      const row = [
        backend,
        c.filters.join(','),
        c.batch,
        median.toFixed(0),
        (1000 / median).toFixed(2),
      ];
      console.log(`| ${row.join(' | ')} |`);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
