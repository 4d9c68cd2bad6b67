import { InvalidOptionError } from '../errors';
import type { TransportCapabilities } from '../transport/transport';
import { afterEach, beforeEach, describe, it } from './runner';
import { Harness } from './transport/harness';
import type { TransportConformanceOptions, TransportFactory } from './transport/options';
import type { Requirement, Scenario } from './transport/scenario';
import { closeScenario } from './transport/scenarios/close';
import { competingConsumersScenario } from './transport/scenarios/competing-consumers';
import { deadLettersScenario } from './transport/scenarios/dead-letters';
import { declaredGroupsScenario } from './transport/scenarios/declared-groups';
import { delayedDeliveryScenario } from './transport/scenarios/delayed-delivery';
import { fanOutScenario } from './transport/scenarios/fan-out';
import { groupReopenScenario } from './transport/scenarios/group-reopen';
import { groupsIndependentScenario } from './transport/scenarios/groups-independent';
import { keyOrderScenario } from './transport/scenarios/key-order';
import { nackRedeliveryScenario } from './transport/scenarios/nack-redelivery';
import { patternsScenario } from './transport/scenarios/patterns';
import { publishSubscribeScenario } from './transport/scenarios/publish-subscribe';
import { publisherFlushScenario } from './transport/scenarios/publisher-flush';
import { startFromScenario } from './transport/scenarios/start-from';
import { subscribeReadinessScenario } from './transport/scenarios/subscribe-readiness';
import { topicIsolationScenario } from './transport/scenarios/topic-isolation';
import { validationScenario } from './transport/scenarios/validation';
import { visibilityTimeoutScenario } from './transport/scenarios/visibility-timeout';

const SCENARIOS: ReadonlyArray<Scenario> = [
  publishSubscribeScenario,
  competingConsumersScenario,
  topicIsolationScenario,
  nackRedeliveryScenario,
  visibilityTimeoutScenario,
  groupReopenScenario,
  closeScenario,
  groupsIndependentScenario,
  fanOutScenario,
  keyOrderScenario,
  delayedDeliveryScenario,
  deadLettersScenario,
  patternsScenario,
  publisherFlushScenario,
  validationScenario,
  startFromScenario,
  declaredGroupsScenario,
  subscribeReadinessScenario,
];

const DEFAULT_VISIBILITY_TIMEOUT_MS = 300;
const BASE_TEST_TIMEOUT_MS = 30_000;

/**
 * Registers the transport conformance suite with vitest: a `describe` block per scenario, checking through the
 * `Transport` contract alone that messages are delivered exactly as promised (at least once per group and
 * nothing lost, fan-out without a group, per-key order, redelivery on nack and on visibility timeout, delays,
 * dead letters, patterns, close and validation, where a new group starts, groups declared ahead of workers), and
 * through an event bus over it that `await bus.subscribe()` misses nothing published after it resolves.
 *
 * Call it at the top level of a test file. It asks `factory` for one instance to read the transport's
 * `capabilities` while collecting tests, and skips the tests a missing capability makes meaningless, naming the
 * reason in the test name. Every test gets its own namespace and fresh instances, all closed after the test.
 *
 * @param name - Shown in the suite title, such as `memory` or `redis`.
 * @param factory - Makes an instance for a namespace; see {@link TransportFactory} for the sharing rules.
 * @param options - Wait scaling, visibility timeout, backend sharing and skips.
 * @throws `InvalidOptionError` when an option is out of range.
 * @example
 * ```ts
 * import { describeTransportConformance } from '@relaybus/core/testing';
 * import { memoryTransport } from '@relaybus/core';
 *
 * describeTransportConformance('memory', () => memoryTransport());
 * ```
 * @example
 * ```ts
 * describeTransportConformance('redis', ({ namespace }) => redisTransport({ redis: new Redis(url), prefix: namespace }), {
 *   timeoutScale: 3,
 *   visibilityTimeoutMs: 1_000,
 * });
 * ```
 */
export function describeTransportConformance(
  name: string,
  factory: TransportFactory,
  options: TransportConformanceOptions = {},
): void {
  const timeoutScale = options.timeoutScale ?? 1;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
  const where = 'describeTransportConformance';
  if (!(Number.isFinite(timeoutScale) && timeoutScale > 0)) {
    throw new InvalidOptionError(where, 'timeoutScale', `must be a positive number, got ${timeoutScale}`);
  }
  if (!(Number.isInteger(visibilityTimeoutMs) && visibilityTimeoutMs > 0)) {
    throw new InvalidOptionError(
      where,
      'visibilityTimeoutMs',
      `must be a positive integer of milliseconds, got ${visibilityTimeoutMs}`,
    );
  }
  const known = new Set<string>(SCENARIOS.map((scenario) => scenario.name));
  for (const [scenario, reason] of Object.entries(options.skip ?? {})) {
    if (!known.has(scenario)) {
      throw new InvalidOptionError(
        where,
        `skip.${scenario}`,
        `is not a scenario; known: ${[...known].join(', ')}`,
      );
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new InvalidOptionError(
        where,
        `skip.${scenario}`,
        'must be the reason for skipping, a non-empty string',
      );
    }
  }
  const run = `conf_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  describe(`transport conformance: ${name}`, async () => {
    const capabilities = await readCapabilities(factory, `${run}_probe`);
    const sharedBackend = options.sharedBackend ?? capabilities.durable;
    let tests = 0;
    let harness: Harness | undefined;

    beforeEach(() => {
      tests++;
      harness = new Harness({
        factory,
        namespace: `${run}_${tests}`,
        sharedBackend,
        timeoutScale,
        visibilityTimeoutMs,
      });
    });
    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.closeAll();
    });

    for (const scenario of SCENARIOS) {
      describe(scenario.name, () => {
        for (const test of scenario.tests) {
          const reason =
            options.skip?.[scenario.name] ??
            missingRequirement(test.requires ?? [], capabilities, sharedBackend);
          (reason === undefined ? it : it.skip)(
            reason === undefined ? test.title : `${test.title} [skipped: ${reason}]`,
            async () => {
              if (harness === undefined)
                throw new Error('conformance harness missing: beforeEach did not run');
              await test.run(harness);
            },
            Math.round(BASE_TEST_TIMEOUT_MS * timeoutScale),
          );
        }
      });
    }
  });
}

async function readCapabilities(
  factory: TransportFactory,
  namespace: string,
): Promise<TransportCapabilities> {
  const probe = await factory({ namespace, instance: 0 });
  try {
    const { durable, groups, delay, orderedByKey, deadLetters = true } = probe.capabilities;
    return { durable, groups, delay, orderedByKey, deadLetters };
  } finally {
    await probe.close();
  }
}

function missingRequirement(
  requires: ReadonlyArray<Requirement>,
  capabilities: TransportCapabilities,
  sharedBackend: boolean,
): string | undefined {
  const missing = requires.filter((requirement) =>
    requirement === 'sharedBackend' ? !sharedBackend : capabilities[requirement] !== true,
  );
  if (missing.length === 0) return undefined;
  return `needs ${missing
    .map((requirement) =>
      requirement === 'sharedBackend'
        ? 'instances sharing a backend (options.sharedBackend, default capabilities.durable)'
        : `capabilities.${requirement}`,
    )
    .join(' and ')}`;
}
