import { InvalidOptionError } from '../../errors';
import { afterEach, beforeEach, describe, it } from '../runner';
import { StoreHarness } from './harness';
import type { EventStoreConformanceOptions, EventStoreFactory } from './options';
import type { StoreScenario } from './scenario';
import { atomicBatchScenario } from './scenarios/atomic-batch';
import { catchUpScenario } from './scenarios/catch-up';
import { expectedVersionScenario } from './scenarios/expected-version';
import { filteredPagingScenario } from './scenarios/filtered-paging';
import { idempotentAppendScenario } from './scenarios/idempotent-append';
import { largeStreamScenario } from './scenarios/large-stream';
import { readAllScenario } from './scenarios/read-all';
import { readStreamScenario } from './scenarios/read-stream';
import { streamOrderScenario } from './scenarios/stream-order';
import { validationScenario } from './scenarios/validation';
import { versionsAndHeadScenario } from './scenarios/versions-and-head';
import { waitForEventsScenario } from './scenarios/wait-for-events';

const SCENARIOS: ReadonlyArray<StoreScenario> = [
  versionsAndHeadScenario,
  expectedVersionScenario,
  idempotentAppendScenario,
  atomicBatchScenario,
  readStreamScenario,
  readAllScenario,
  filteredPagingScenario,
  streamOrderScenario,
  waitForEventsScenario,
  catchUpScenario,
  largeStreamScenario,
  validationScenario,
];

const BASE_TEST_TIMEOUT_MS = 30_000;

/**
 * Registers the event store conformance suite with vitest: a `describe` block per scenario, checking through the
 * `EventStore` contract alone the four expected-version modes, idempotent retries, atomic batches, stream and
 * global reads (`from`, type filters, paging), per-stream order in the global feed, catch-up subscriptions racing
 * concurrent writers, `waitForEvents`, large streams, bad input, `streamVersion()` and `headPosition()`.
 *
 * Call it at the top level of a test file. Every test gets its own namespace and its own store from `factory`,
 * which must start with an empty log (see {@link EventStoreFactory}); the store is closed after the test. Errors
 * are recognised by `name` and `code`, so a store built against another copy of `@relaybus/core` passes too.
 *
 * @param name - Shown in the suite title, such as `memory` or `postgres`.
 * @param factory - Makes the store of one test; see {@link EventStoreFactory} for the empty-log rule.
 * @param options - Wait scaling and skips.
 * @throws `InvalidOptionError` when an option is out of range.
 * @example
 * ```ts
 * import { memoryEventStore } from '@relaybus/core';
 * import { describeEventStoreConformance } from '@relaybus/core/testing';
 *
 * describeEventStoreConformance('memory', () => memoryEventStore());
 * ```
 * @example
 * ```ts
 * describeEventStoreConformance(
 *   'postgres',
 *   async ({ namespace }) => {
 *     await pool.query(`CREATE SCHEMA ${namespace}`);
 *     return postgresEventStore({ pool, schema: namespace });
 *   },
 *   { timeoutScale: 3 },
 * );
 * ```
 */
export function describeEventStoreConformance(
  name: string,
  factory: EventStoreFactory,
  options: EventStoreConformanceOptions = {},
): void {
  const timeoutScale = options.timeoutScale ?? 1;
  if (!(Number.isFinite(timeoutScale) && timeoutScale > 0)) {
    throw new InvalidOptionError(
      'describeEventStoreConformance',
      'timeoutScale',
      `must be a positive number, got ${timeoutScale}`,
    );
  }
  // Lowercase letters, digits and underscores, starting with a letter: a valid unquoted Postgres identifier.
  const run = `es_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  describe(`event store conformance: ${name}`, () => {
    let tests = 0;
    let harness: StoreHarness | undefined;

    beforeEach(() => {
      tests++;
      harness = new StoreHarness({ factory, namespace: `${run}_${tests}`, timeoutScale });
    });
    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.close();
    });

    for (const scenario of SCENARIOS) {
      describe(scenario.name, () => {
        const reason = options.skip?.[scenario.name];
        for (const test of scenario.tests) {
          (reason === undefined ? it : it.skip)(
            reason === undefined ? test.title : `${test.title} [skipped: ${reason}]`,
            async () => {
              if (harness === undefined)
                throw new Error('event store harness missing: beforeEach did not run');
              await test.run(harness);
            },
            Math.round(BASE_TEST_TIMEOUT_MS * timeoutScale),
          );
        }
      });
    }
  });
}
