import type { Envelope } from '../../../events/envelope';
import type { ExpectedVersion } from '../../../store/event-store';
import { expect } from '../../expect';
import { expectError, firstIterationRejection, rejectionOf, snapshotOf } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.validated';

/** Values typed as envelopes on purpose: the store must check what it is given at run time. */
function asEnvelopes(values: ReadonlyArray<unknown>): Envelope[] {
  return values as Envelope[];
}

async function badAppendOptions(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('valid');
  const before = await snapshotOf(store, stream);
  expectError(
    await rejectionOf(() => store.append(stream, []), 'append(stream, [])'),
    { name: 'InvalidOptionError', code: 'INVALID_OPTION', option: 'events' },
    'an empty batch',
  );
  expectError(
    await rejectionOf(() => store.append('', h.events(1, TYPE)), 'append("", events)'),
    { name: 'InvalidOptionError', code: 'INVALID_OPTION', option: 'stream' },
    'an empty stream name',
  );
  const badVersions: ReadonlyArray<unknown> = [-1, 1.5, 'sometimes', Number.NaN];
  for (const expectedVersion of badVersions) {
    const what = `expectedVersion ${String(expectedVersion === 'sometimes' ? "'sometimes'" : expectedVersion)}`;
    expectError(
      await rejectionOf(
        () =>
          store.append(stream, h.events(1, TYPE), { expectedVersion: expectedVersion as ExpectedVersion }),
        what,
      ),
      { name: 'InvalidOptionError', code: 'INVALID_OPTION', option: 'expectedVersion' },
      what,
    );
  }
  expect(await snapshotOf(store, stream), 'rejected appends write nothing').toEqual(before);
}

async function notEnvelopes(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('envelopes');
  const valid = h.event(TYPE);
  const { type: _type, ...withoutType } = h.event(TYPE);
  const bad: ReadonlyArray<{ readonly value: unknown; readonly what: string }> = [
    { value: { hello: 'world' }, what: 'a plain object' },
    { value: withoutType, what: 'an envelope without a type' },
    { value: { ...h.event(TYPE), version: 0 }, what: 'an envelope with version 0' },
    { value: { ...h.event(TYPE), id: '' }, what: 'an envelope with an empty id' },
    { value: null, what: 'null' },
    { value: 42, what: 'a number' },
  ];
  for (const { value, what } of bad) {
    expectError(
      await rejectionOf(() => store.append(stream, asEnvelopes([value])), `append([${what}])`),
      { name: 'InvalidEnvelopeError', code: 'INVALID_ENVELOPE' },
      `appending ${what}`,
    );
  }
  expectError(
    await rejectionOf(
      () => store.append(stream, asEnvelopes([valid, { hello: 'world' }])),
      'append([valid, bad])',
    ),
    { name: 'InvalidEnvelopeError', code: 'INVALID_ENVELOPE' },
    'a batch with one bad envelope',
  );
  expect(await store.streamVersion(stream), 'no part of a rejected batch was written').toBe(0);
  expect(await store.headPosition(), 'the log is still empty').toBeUndefined();
}

async function badPosition(h: StoreHarness): Promise<void> {
  const store = await h.store();
  await store.append(h.stream('a'), h.events(3, TYPE));
  const from = 'not-a-position';
  expectError(
    await rejectionOf(() => store.readPage({ from, limit: 10 }), `readPage({ from: '${from}' })`),
    { name: 'InvalidPositionError', code: 'INVALID_POSITION', position: from },
    'readPage with a malformed position',
  );
  expectError(
    await firstIterationRejection(() => store.readAll({ from }), `readAll({ from: '${from}' })`),
    { name: 'InvalidPositionError', code: 'INVALID_POSITION', position: from },
    'readAll with a malformed position',
  );
}

async function appendAfterClose(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('closed');
  await store.append(stream, h.events(1, TYPE));
  await store.close();
  expectError(
    await rejectionOf(() => store.append(stream, h.events(1, TYPE)), 'append() after close()'),
    { name: 'ClosedError', code: 'CLOSED' },
    'an append after close()',
  );
}

/**
 * Scenario: bad input is refused with typed errors, and nothing is written.
 *
 * @example
 * ```ts
 * for (const test of validationScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const validationScenario: StoreScenario = {
  name: 'validation',
  tests: [
    {
      title:
        "an empty batch, an empty stream name and a malformed expectedVersion fail with InvalidOptionError naming 'events', 'stream' and 'expectedVersion'",
      run: badAppendOptions,
    },
    {
      title: 'values that are not envelopes fail with InvalidEnvelopeError and nothing is written',
      run: notEnvelopes,
    },
    {
      title:
        'a malformed position fails with InvalidPositionError, on readPage and on the first iteration of readAll',
      run: badPosition,
    },
    {
      title: 'append() after close() fails with ClosedError',
      run: appendAfterClose,
    },
  ],
};
