import { RelaybusError } from '../errors';

type Body = () => unknown;

interface RunnerGlobals {
  describe(name: string, body: Body): unknown;
  it(name: string, body: Body, timeoutMs?: number): unknown;
  beforeEach(body: Body): unknown;
  afterEach(body: Body): unknown;
}

/** Reads a runner function from the globals at call time, or says how to provide it. */
function runner<K extends keyof RunnerGlobals>(name: K): RunnerGlobals[K] {
  const found = (globalThis as Partial<RunnerGlobals>)[name];
  if (typeof found !== 'function') {
    throw new RelaybusError(
      'INVALID_OPTION',
      `@relaybus/core/testing (CommonJS build) needs a global "${name}" function: run the suite under vitest with globals: true, or import it from an ES module (which uses vitest directly), or assign describe, it, beforeEach and afterEach of node:test to globalThis first.`,
    );
  }
  return found as RunnerGlobals[K];
}

/** `describe` of the running test runner. */
export function describe(name: string, body: Body): void {
  runner('describe')(name, body);
}

/** `it` of the running test runner, with `it.skip` for tests a missing capability makes meaningless. */
export const it: {
  (name: string, body: Body, timeoutMs?: number): void;
  skip(name: string, body: Body, timeoutMs?: number): void;
} = Object.assign(
  (name: string, body: Body, timeoutMs?: number): void => {
    runner('it')(name, body, timeoutMs);
  },
  {
    skip(name: string, body: Body, timeoutMs?: number): void {
      const skip = (runner('it') as unknown as { skip?: RunnerGlobals['it'] }).skip;
      if (typeof skip !== 'function')
        throw new RelaybusError('INVALID_OPTION', 'the global "it" has no "skip"');
      skip(name, body, timeoutMs);
    },
  },
);

/** `beforeEach` of the running test runner. */
export function beforeEach(body: Body): void {
  runner('beforeEach')(body);
}

/** `afterEach` of the running test runner. */
export function afterEach(body: Body): void {
  runner('afterEach')(body);
}
