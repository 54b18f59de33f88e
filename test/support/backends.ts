import { afterAll, beforeAll, describe } from 'vitest';
import { useBackend } from 'vbn';
import { BACKENDS } from './helpers.js';

export type TestBackend = (typeof BACKENDS)[number];

/**
 * One suite per backend that initializes here (BACKENDS: native listed under VBN_REQUIRE_NATIVE=1
 * even where it did not load, so that its suites fail with the reason). `name` may hold `%s` for
 * the backend. The backend is active during the suite; cpu again after it.
 */
export function describeBackends(
  name: string,
  body: (backend: TestBackend) => void,
  only: readonly TestBackend[] = BACKENDS,
): void {
  for (const backend of BACKENDS.filter((b) => only.includes(b))) {
    const title = name.includes('%s') ? name.replace('%s', backend) : `${name} on ${backend}`;
    describe(title, () => {
      beforeAll(async () => {
        await useBackend(backend);
      });
      afterAll(async () => {
        await useBackend('cpu');
      });
      body(backend);
    });
  }
}
