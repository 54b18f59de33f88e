import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserSuiteEnabled,
  harnessBundle,
  launchChromium,
  openPage,
  serveHarness,
  startWebServer,
  type WebServer,
} from '../support/browser.js';
import type { Harnessed } from '../support/browser-api.js';

/**
 * vbn in real headless Chromium (Debian's, via playwright-core). WebGL and WebGPU run on
 * SwiftShader here: the numbers are checked, the speed is not. Tensors are kept small.
 */
const enabled = browserSuiteEnabled();
const TOL = 1e-4;

describe.skipIf(!enabled)('vbn in headless Chromium', () => {
  let browser: Browser;
  let server: WebServer;
  let harness: Page;
  let harnessErrors: string[];

  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), startWebServer({ port: 0 })]);
    ({ page: harness, errors: harnessErrors } = await openPage(browser));
    await serveHarness(harness, server, await harnessBundle());
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("importing 'vbn' (browser entry) registers no backend and sets none", async () => {
    const after = await harness.evaluate(
      () => (globalThis as unknown as Harnessed).harness.afterImport,
    );
    expect(after).toEqual({ backendName: null, registered: [] });
  });

  for (const backend of ['webgl', 'webgpu', 'wasm']) {
    it(`${backend}: logits and the gradients of every parameter and of the reference agree with cpu, and the strategies with each other (${TOL}); cpu with float64`, async () => {
      const r = await harness.evaluate(
        ([b, tol]) => (globalThis as unknown as Harnessed).harness.agreement(b, tol),
        [backend, TOL] as const,
      );
      const failed = r.rows.filter((x) => !x.ok).map((x) => x.message);
      expect(failed).toEqual([]);
      // Every quantity is there: logits and each gradient, for both pairings, on both backends.
      for (const name of [...r.parameterNames, 'reference']) {
        expect(r.stages).toContain(`${backend} concat vs two-pass gradient ${name}`);
        expect(r.stages).toContain(
          `${backend} concat: ${backend} vs cpu backend: gradient ${name}`,
        );
        expect(r.stages).toContain(
          `${backend} two-pass: ${backend} vs cpu backend: gradient ${name}`,
        );
      }
      expect(r.stages).toContain(`cpu concat vs two-pass logits`);
      expect(
        await harness.evaluate(() =>
          (globalThis as unknown as Harnessed).harness.useBackend('cpu'),
        ),
      ).toBe('cpu');
    });
  }

  it('the agreement table catches a planted backend bug (logits 0.1% off on wasm)', async () => {
    const rows = await harness.evaluate(
      (b) => (globalThis as unknown as Harnessed).harness.plantedBackendBug(b),
      'wasm',
    );
    const backendRows = rows.filter((r) => r.compared.includes('wasm vs cpu'));
    expect(backendRows.length).toBe(20);
    expect(backendRows.find((r) => r.check === 'backend: logits')?.ok).toBe(false);
    expect(rows.filter((r) => r.compared === 'concat vs two-pass').every((r) => r.ok)).toBe(true);
  });

  for (const backend of ['cpu', 'wasm', 'webgl', 'webgpu']) {
    const against = backend === 'cpu' ? 'the float64 oracle' : "cpu's";
    it(`${backend}: the differentiability contract (every parameter, the reference, the inputs, z, images, a trainable reference and op before the network, model.fit) equals ${against} (1e-5)`, async () => {
      const r = await harness.evaluate(
        (b) => (globalThis as unknown as Harnessed).harness.contract(b),
        backend,
      );
      const items = Object.keys(r.errors);
      expect(items.length).toBeGreaterThanOrEqual(backend === 'cpu' ? 8 : 18);
      const bad = items.flatMap((k) =>
        Object.entries(r.errors[k])
          .filter(([, e]) => !(e < 1e-5))
          .map(([n, e]) => `${k}: ${n} ${e}`),
      );
      expect(bad).toEqual([]);
      for (const [k, norm] of Object.entries(r.referenceNorms)) {
        if (k.includes('stop')) expect(norm, k).toBe(0);
        else expect(norm, k).toBeGreaterThan(1e-3);
      }
      for (const k of ['layer0/0', 'layer1/0', 'layer1/1', 'layer2/0']) {
        expect(r.moved[k], k).toBeGreaterThan(1e-3);
      }
    });
  }

  const trajectories: Record<string, number[]> = {};
  for (const backend of ['webgl', 'webgpu']) {
    it(`${backend}: 30 training steps, the loss goes down, no tensor leaks`, async () => {
      const r = await harness.evaluate(
        (b) => (globalThis as unknown as Harnessed).harness.train(b, 30),
        backend,
      );
      expect(r.backend).toBe(backend);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(r.losses.slice(0, 5));
      const last = mean(r.losses.slice(-5));
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(last, `losses ${r.losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(
        0.75 * first,
      );
      expect(r.leaked).toBe(0);
      trajectories[backend] = r.losses;
    });
  }

  it('webgl and webgpu follow the same trajectory: first loss within 1e-4, all 30 within 2e-2 (Adam amplifies rounding)', () => {
    const [a, b] = [trajectories.webgl, trajectories.webgpu];
    expect(a && b, 'both training runs finished').toBeTruthy();
    expect(Math.abs(a[0] - b[0]) / a[0]).toBeLessThan(1e-4);
    a.forEach((l, i) => expect(Math.abs(l - b[i]) / l, `step ${i + 1}`).toBeLessThan(2e-2));
  });

  it('no page errors in the harness', () => {
    expect(harnessErrors).toEqual([]);
  });

  describe('the page (npx vbn web)', () => {
    let page: Page;
    let pageErrors: string[];
    const text = async (sel: string) => ((await page.textContent(sel)) ?? '').trim();
    const fill = async (values: Record<string, string>) => {
      for (const [id, v] of Object.entries(values)) await page.fill(`#${id}`, v);
    };
    const stepShown = async () => Number(await text('#stat-step'));
    /** Polls the text of `sel` until `ok` holds (the page updates asynchronously). */
    const waitText = async (sel: string, ok: (t: string) => boolean, timeout = 60_000) => {
      const end = Date.now() + timeout;
      for (let t = await text(sel); !ok(t); t = await text(sel)) {
        if (Date.now() > end) throw new Error(`${sel} still shows '${t}' after ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
      return text(sel);
    };
    const rowsOf = async (sel: string) => {
      const rows = await page.locator(`${sel} tbody tr`).all();
      return Promise.all(rows.map((r) => r.locator('td').allTextContents()));
    };
    const trainUntil = async (step: number) => {
      await page.click('#start');
      await waitText('#stat-step', (t) => Number(t) >= step, 120_000);
      await page.click('#pause');
      await page.waitForSelector('#start:not([disabled])');
    };

    beforeAll(async () => {
      ({ page, errors: pageErrors } = await openPage(browser));
      await page.setViewportSize({ width: 1200, height: 1400 });
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 60_000 });
    });

    it('lists the backends that initialize here', async () => {
      const options = await page.locator('#backend option').allTextContents();
      expect(options).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
      // SwiftShader here: wasm is preselected, and the page says why.
      expect(await page.inputValue('#backend')).toBe('wasm');
      expect(await text('#status')).toContain('software GPU');
      expect(await text('#error')).toBe('');
    });

    it('bad settings show their message in the page', async () => {
      await page.uncheck('#digit-3');
      await page.uncheck('#digit-5');
      await page.click('#start');
      expect(await waitText('#error', (t) => t !== '')).toBe(
        'classes: choose at least two digits to tell apart (chosen: none)',
      );
      expect(await page.isVisible('#error')).toBe(true);
      await page.check('#digit-3');
      await page.check('#digit-5');
      await fill({ trainImages: '64', referenceSize: '100' });
      await page.click('#start');
      await waitText('#error', (t) => t.startsWith('reference size'));
      expect(await text('#error')).toBe(
        'reference size: 100 is larger than the training data (64 images of digits 3,5)',
      );
      await fill({ filters: '4,x' });
      await page.click('#start');
      await waitText('#error', (t) => t.startsWith('filters'));
      expect(await text('#error')).toBe("filters: expected an integer >= 1, got 'x'");
      // A backend that fails to start (here: one this browser does not know).
      await fill({ filters: '4,8' });
      await page.evaluate("document.querySelector('#backend').add(new Option('bogus', 'bogus'))");
      await page.selectOption('#backend', 'bogus');
      await page.click('#start');
      expect(await waitText('#error', (t) => t.startsWith('useBackend'))).toBe(
        "useBackend: unknown backend 'bogus' (expected one of auto, webgpu, webgl, wasm, cpu)",
      );
      expect(await page.isDisabled('#pause')).toBe(true); // nothing started
    });

    it('trains from its controls (wasm, two-pass), then the panels read the trained weights', async () => {
      await page.selectOption('#backend', 'wasm');
      await page.selectOption('#strategy', 'two-pass');
      await fill({ filters: '4,8', batchSize: '16', referenceSize: '16', lr: '0.01' });
      await fill({ trainImages: '256', valImages: '100' });
      await trainUntil(20);
      expect(await text('#error')).toBe('');
      expect(await text('#stat-backend')).toBe('wasm');
      expect(await stepShown()).toBeGreaterThanOrEqual(20);
      // One epoch is 256 / 16 = 16 steps: validation ran once.
      expect(await text('#stat-val')).toMatch(/^\d+\.\d\d% \(loss \d\.\d{4}\)$/);
      expect(Number(await text('#stat-speed'))).toBeGreaterThan(0);

      await page.click('#independence-run');
      await waitText('#independence-summary', (t) => t !== '');
      expect(await text('#independence-summary')).toBe(
        "VBN: the digit's logits are identical in every minibatch",
      );
      const vbnRows = await rowsOf('#independence-table');
      expect(vbnRows.map((r) => r[2])).toEqual(Array(5).fill('0 (identical)'));
      await page.check('#bn-toggle');
      await waitText('#independence-summary', (t) => t.startsWith('ordinary'));
      const bn = await text('#independence-summary');
      expect(bn).toMatch(/^ordinary batch norm: the digit's logits change with its companions/);
      expect(Number(/difference\| ([\d.e+-]+)/.exec(bn)?.[1])).toBeGreaterThan(1e-3);

      await page.click('#agreement-run');
      await waitText('#agreement-summary', (t) => / checks? /.test(t), 120_000);
      const summary = await text('#agreement-summary');
      expect(summary).toMatch(/^all \d+ checks pass/);
      const rows = await rowsOf('#agreement-table');
      // Per backend: logits + 9 gradients (7 parameters, the reference) + 2 fetch rows; then
      // webgl vs cpu for both strategies.
      expect(rows.length).toBe(2 * 12 + 2 * 10);
      expect(rows.filter((r) => r[2] === 'wasm' && r[1] === 'two-pass: wasm vs cpu').length).toBe(
        10,
      );
      expect(rows.every((r) => r[5] === 'pass')).toBe(true);
      expect(await text('#stat-backend')).toBe('wasm');
    });

    it('shows predictions with the wrong ones marked', async () => {
      const figs = await Promise.all(
        (await page.locator('#predictions figure').all()).map(async (f) => ({
          wrong: (await f.getAttribute('class')) === 'wrong',
          title: (await f.getAttribute('title')) ?? '',
        })),
      );
      expect(figs.length).toBe(40);
      for (const f of figs) {
        const [, predicted, truth] = /^predicted (\d), is (\d)$/.exec(f.title) ?? [];
        expect(f.wrong, f.title).toBe(predicted !== truth);
      }
      const right = figs.filter((f) => !f.wrong).length;
      expect(await text('#predictions-summary')).toBe(
        `${right} of 40 right; wrong ones are marked in red`,
      );
    });

    it('switches backend and strategy from the pickers while paused, and keeps training', async () => {
      const before = await stepShown();
      await page.selectOption('#backend', 'cpu');
      await page.selectOption('#strategy', 'concat');
      await trainUntil(before + 5);
      expect(await text('#stat-backend')).toBe('cpu');
      expect(await text('#error')).toBe('');
      const shot = process.env.VBN_SCREENSHOT ?? join(tmpdir(), `vbn-web-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(pageErrors).toEqual([]);
    });
  });
});
