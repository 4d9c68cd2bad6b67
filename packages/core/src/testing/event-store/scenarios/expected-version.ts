import type { AppendResult } from '../../../store/event-store';
import { expect } from '../../expect';
import { describeError, expectConflict, expectError } from '../assertions';
import type { StoreHarness } from '../harness';
import type { StoreScenario } from '../scenario';

const TYPE = 'conformance.versioned';

async function anyMode(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('any');
  const first = await store.append(stream, h.events(2, TYPE), { expectedVersion: 'any' });
  expect(first.streamVersion, "'any' on a new stream").toBe(2);
  const second = await store.append(stream, h.events(1, TYPE), { expectedVersion: 'any' });
  expect(second.streamVersion, "'any' on an existing stream").toBe(3);
  const third = await store.append(stream, h.events(1, TYPE));
  expect(third.streamVersion, 'no expectedVersion behaves as any').toBe(4);
  expect(await store.streamVersion(stream)).toBe(4);
}

async function noStream(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('no-stream');
  const created = await store.append(stream, h.events(2, TYPE), { expectedVersion: 'no_stream' });
  expect(created.streamVersion, "'no_stream' on a new stream").toBe(2);
  await expectConflict(
    store,
    stream,
    () => store.append(stream, h.events(1, TYPE), { expectedVersion: 'no_stream' }),
    'no_stream',
    2,
    "'no_stream' on an existing stream",
  );
}

async function streamExists(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('exists');
  await expectConflict(
    store,
    stream,
    () => store.append(stream, h.events(1, TYPE), { expectedVersion: 'stream_exists' }),
    'stream_exists',
    0,
    "'stream_exists' on a new stream",
  );
  await store.append(stream, h.events(2, TYPE), { expectedVersion: 'no_stream' });
  const appended = await store.append(stream, h.events(1, TYPE), { expectedVersion: 'stream_exists' });
  expect(appended.streamVersion, "'stream_exists' on an existing stream").toBe(3);
}

async function exactVersion(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const stream = h.stream('exact');
  await expectConflict(
    store,
    stream,
    () => store.append(stream, h.events(1, TYPE), { expectedVersion: 1 }),
    1,
    0,
    'expectedVersion 1 on a new stream',
  );
  const created = await store.append(stream, h.events(3, TYPE), { expectedVersion: 0 });
  expect(created.streamVersion, 'expectedVersion 0 on a new stream').toBe(3);
  for (const stale of [0, 2, 4]) {
    await expectConflict(
      store,
      stream,
      () => store.append(stream, h.events(1, TYPE), { expectedVersion: stale }),
      stale,
      3,
      `expectedVersion ${stale} on a stream at version 3`,
    );
  }
  const next = await store.append(stream, h.events(2, TYPE), { expectedVersion: 3 });
  expect(next.streamVersion, 'expectedVersion equal to the current version').toBe(5);
}

/** Several writers race with the same expectation: exactly one wins, the others see the winner's version. */
async function racingWriters(h: StoreHarness): Promise<void> {
  const store = await h.store();
  const writers = 8;
  const batch = 3;
  for (const mode of [0, 'no_stream'] as const) {
    const stream = h.stream(`race-${mode}`);
    const outcomes = await Promise.allSettled(
      Array.from({ length: writers }, () =>
        store.append(stream, h.events(batch, TYPE), { expectedVersion: mode }),
      ),
    );
    const winners = outcomes.filter(
      (o): o is PromiseFulfilledResult<AppendResult> => o.status === 'fulfilled',
    );
    expect(
      winners.length,
      `${writers} concurrent appends with expectedVersion ${mode}: exactly one succeeds`,
    ).toBe(1);
    expect(winners[0]?.value.streamVersion).toBe(batch);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      expectError(
        outcome.reason,
        { name: 'VersionConflictError', code: 'VERSION_CONFLICT', stream, expected: mode, actual: batch },
        `a losing concurrent append (${describeError(outcome.reason)})`,
      );
    }
    expect(await store.streamVersion(stream), 'only the winning batch was written').toBe(batch);
  }
}

/**
 * Scenario: the four expected-version modes, and what a failed append leaves behind.
 *
 * @example
 * ```ts
 * for (const test of expectedVersionScenario.tests) it(test.title, () => test.run(harness));
 * ```
 */
export const expectedVersionScenario: StoreScenario = {
  name: 'expected-version',
  tests: [
    { title: "'any' (and no option) appends to new and existing streams", run: anyMode },
    {
      title: "'no_stream' appends to a new stream; on an existing one it conflicts and writes nothing",
      run: noStream,
    },
    {
      title: "'stream_exists' conflicts on a new stream and writes nothing; appends to an existing one",
      run: streamExists,
    },
    {
      title: 'an exact version appends when equal; otherwise it conflicts with stream, expected and actual',
      run: exactVersion,
    },
    {
      title: 'concurrent appends with the same expected version: exactly one wins, the others conflict',
      run: racingWriters,
    },
  ],
};
