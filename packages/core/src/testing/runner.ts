/**
 * The test-runner functions the suites register with. The ESM build takes them from vitest; the CJS build (where
 * vitest cannot be required) is built with `runner-globals.ts` in place of `vitest`, which takes them from the
 * runner's globals.
 */
export { afterEach, beforeEach, describe, it } from 'vitest';
