import type { StandardSchemaV1 } from '@standard-schema/spec';
import { createEventBus } from '../../../bus/create-event-bus';
import type { EventBus } from '../../../bus/types';
import { RelaybusError } from '../../../errors';
import { defineEvent } from '../../../events/define-event';
import { silentLogger } from '../../../logger';
import type { Transport } from '../../../transport/transport';
import { expect } from '../../expect';
import { expectExactlyOnce } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

/** A schema that accepts `{ n: number }`, written against Standard Schema so the suite needs no validator. */
const countSchema: StandardSchemaV1<{ n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'relaybus-conformance',
    validate: (value) =>
      typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
        ? { value: value as { n: number } }
        : { issues: [{ message: 'expected { n: number }' }] },
  },
};
const Ready = defineEvent('conformance.ready', countSchema);
const ROUNDS = 20;

function busOn(transport: Transport): EventBus<typeof Ready> {
  return createEventBus({ events: [Ready], transport, logger: silentLogger });
}

/** Runs `body` with a publishing bus and a worker bus, on separate instances where they share a backend. */
async function withBuses(
  h: Harness,
  body: (publisher: EventBus<typeof Ready>, worker: EventBus<typeof Ready>) => Promise<void>,
): Promise<void> {
  const publisher = busOn(await h.transport());
  const worker = h.sharedBackend ? busOn(await h.newInstance()) : publisher;
  try {
    await body(publisher, worker);
  } finally {
    await Promise.all([publisher.close({ timeoutMs: 1_000 }), worker.close({ timeoutMs: 1_000 })]);
  }
}

async function newGroupsMissNothing(h: Harness): Promise<void> {
  await withBuses(h, async (publisher, worker) => {
    const handled = new Map<string, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const group = `ready-${round}`;
      // 'latest': only readiness, not a retained backlog, can make the next publish reach this group.
      await worker.subscribe(
        Ready,
        (event) => {
          const list = handled.get(group) ?? [];
          list.push(event.data.n);
          handled.set(group, list);
        },
        { group, startFrom: 'latest' },
      );
      await publisher.publish(Ready, { n: round });
    }
    await h.waitFor(
      () => handled.size === ROUNDS && [...handled.values()].every((list) => list.length > 0),
      () =>
        `each of ${ROUNDS} new groups to handle the event published right after its subscribe resolved (${handled.size} did)`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const list = handled.get(`ready-${round}`) ?? [];
      expect(list[0], `group ready-${round}: the first event it handled`).toBe(round);
    }
  });
}

async function groupLessMissesNothing(h: Harness): Promise<void> {
  await withBuses(h, async (publisher, worker) => {
    const seen: number[] = [];
    const expected: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const mine: number[] = [];
      const sub = await worker.subscribe(Ready, (event) => {
        mine.push(event.data.n);
        seen.push(event.data.n);
      });
      expect(sub.state, 'state once subscribe() resolved').toBe('active');
      await publisher.publish(Ready, { n: round });
      expected.push(String(round));
      await h.waitFor(
        () => mine.includes(round),
        `a group-less subscriber to receive the event published right after its subscribe resolved (round ${round})`,
      );
      await sub.close();
      expect(sub.state, 'state after close()').toBe('closed');
    }
    await h.quiet();
    expectExactlyOnce(seen.map(String), expected, 'group-less subscribers, one per round');
  });
}

async function refusesBadGroupNames(h: Harness): Promise<void> {
  const bus = busOn(await h.transport());
  try {
    for (const group of ['a b', '', '-leading-dash', 'tab\there', 'x'.repeat(129), 'braces{x}', 'ünï']) {
      let thrown: unknown;
      try {
        bus.subscribe(Ready, () => {}, { group });
      } catch (error) {
        thrown = error;
      }
      expect(
        RelaybusError.is(thrown, 'INVALID_OPTION'),
        `bus.subscribe() with group ${JSON.stringify(group)} must throw INVALID_OPTION at once`,
      ).toBe(true);
      expect((thrown as { option?: unknown }).option, 'the option named').toBe('group');
    }
  } finally {
    await bus.close({ timeoutMs: 1_000 });
  }
}

/** Scenario: `await bus.subscribe()` resolves once the transport registered the subscription. */
export const subscribeReadinessScenario: Scenario = {
  name: 'subscribe-readiness',
  tests: [
    {
      title: `${ROUNDS} new groups: an event published right after \`await bus.subscribe()\` reaches the group`,
      requires: ['groups'],
      run: newGroupsMissNothing,
    },
    {
      title: `${ROUNDS} group-less subscribers: an event published right after \`await bus.subscribe()\` arrives`,
      run: groupLessMissesNothing,
    },
    {
      title:
        'a group name some transport could not use is refused by bus.subscribe() at once, naming "group"',
      run: refusesBadGroupNames,
    },
  ],
};
