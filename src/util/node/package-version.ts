import { readFileSync } from 'node:fs';

/** vbn's version, from its package.json (src/ and dist/ lie at the same depth under the root). */
export function packageVersion(): string {
  const pkg = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}
