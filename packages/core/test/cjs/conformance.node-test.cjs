// Runs the conformance suites from the CommonJS build under node:test, so the `require` condition of
// `@relaybus/core/testing` is proven to work, not only to load. Run by `pnpm check:packages` after a build.
const test = require('node:test');
const { memoryEventStore, memoryJobBackend, memoryTransport } = require('@relaybus/core');
const {
  describeEventStoreConformance,
  describeJobQueueConformance,
  describeTransportConformance,
} = require('@relaybus/core/testing');

Object.assign(globalThis, {
  describe: test.describe,
  it: test.it,
  beforeEach: test.beforeEach,
  afterEach: test.afterEach,
});

describeTransportConformance('memory, CJS build under node:test', () => memoryTransport());
describeEventStoreConformance('memory, CJS build under node:test', () => memoryEventStore());
describeJobQueueConformance('memory, CJS build under node:test', () => memoryJobBackend());

test.test('errors of the CJS build and of the ESM build recognise each other', async () => {
  const assert = require('node:assert');
  const cjs = require('@relaybus/core');
  const esm = await import('@relaybus/core');
  assert.notStrictEqual(cjs.RelaybusError, esm.RelaybusError, 'two copies are loaded');
  const fromCjs = new cjs.InvalidOptionError('subscribe', 'group', 'is refused');
  assert.ok(fromCjs instanceof esm.InvalidOptionError && fromCjs instanceof esm.RelaybusError);
  assert.ok(esm.RelaybusError.is(fromCjs, 'INVALID_OPTION'));
  assert.ok(new esm.ValidationError('t', []) instanceof cjs.ValidationError);
  assert.ok(!(fromCjs instanceof esm.ValidationError));
});
