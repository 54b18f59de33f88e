import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { VbnError } from '../../errors.js';
import { webRoutes, type Served } from './routes.js';

export interface WebServerOptions {
  /** Default 127.0.0.1: only this machine can connect. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface WebServer {
  /** http://host:port/ */
  url: string;
  close(): Promise<void>;
}

export const WEB_DEFAULTS = { host: '127.0.0.1', port: 8080 } as const;

/**
 * Why a request target is refused before any lookup: anything but a plain absolute path
 * ('..' or '.' segments, encoded or not; backslashes; '//' ; NUL; absolute-form URLs).
 */
export function refusedTarget(target: string): string | null {
  if (!target.startsWith('/') || target.startsWith('//')) return 'not a path on this server';
  const path = target.split('?')[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'bad percent-encoding';
  }
  if (/[\\\0]/.test(decoded) || decoded.includes('//')) return 'not a plain path';
  if (decoded.split('/').some((s) => s === '..' || s === '.')) return 'path traversal';
  return null;
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

function handler(routes: Map<string, Served>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD');
    const refused = refusedTarget(target);
    if (refused) return send(res, 400, `refused: ${refused}`);
    const served = routes.get(target.split('?')[0]);
    if (!served) return send(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': served.type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(served.file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

/** Serves the page, the wasm binaries and the MNIST files; nothing else. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const host = options.host ?? WEB_DEFAULTS.host;
  const port = options.port ?? WEB_DEFAULTS.port;
  const server = createServer(handler(webRoutes()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new VbnError(
          e.code === 'EADDRINUSE'
            ? `--port ${port}: ${host}:${port} is already in use (choose another with --port)`
            : `--host ${host} --port ${port}: cannot listen (${e.code ?? e.message})`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
