import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/node/server.js';

/** Debian's Chromium (installed by `npm run setup` as root); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Whether the browser suite runs: it needs Chromium and the built page (dist/web/page, made by
 * `npm run setup`). With VBN_REQUIRE_BROWSER=1 (CI) a missing piece fails the suite instead.
 */
export function browserSuiteEnabled(): boolean {
  const missing = [CHROMIUM, join(ROOT, 'dist/web/page/app.js')].filter((p) => !existsSync(p));
  if (missing.length && process.env.VBN_REQUIRE_BROWSER === '1') {
    throw new Error(
      `VBN_REQUIRE_BROWSER=1 but missing: ${missing.join(', ')} (run npm run setup as root)`,
    );
  }
  return missing.length === 0;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'],
  });
}

/** A page that records page errors (uncaught exceptions) and console errors. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|D-Bus|dbus/i.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

/** test/browser/harness.ts bundled for the browser (the package's browser entry inside). */
export async function harnessBundle(): Promise<string> {
  const r = await build({
    entryPoints: [join(ROOT, 'test/browser/harness.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return r.outputFiles[0].text;
}

/** The `vbn web` server on a free port, plus the harness at /harness.html (routed in the page). */
export async function serveHarness(page: Page, server: WebServer, bundle: string): Promise<void> {
  await page.route(`${server.url}harness.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><body><script type="module" src="harness.js"></script></body>',
    }),
  );
  await page.route(`${server.url}harness.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript', body: bundle }),
  );
  await page.goto(`${server.url}harness.html`);
  await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 60_000 });
}

export { startWebServer, type WebServer };
