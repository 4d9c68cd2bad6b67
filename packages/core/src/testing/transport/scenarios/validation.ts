import type { Delivery, TransportSubscribeOptions } from '../../../transport/transport';
import { expectRejection } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.validated';
const ack = (delivery: Delivery): void | Promise<void> => delivery.ack();

const INVALID_OPTIONS: ReadonlyArray<TransportSubscribeOptions> = [
  { topics: [TOPIC], concurrency: 0 },
  { topics: [TOPIC], concurrency: -1 },
  { topics: [TOPIC], concurrency: 1.5 },
  { topics: [TOPIC], visibilityTimeoutMs: 0 },
  {},
  { topics: [] },
];

async function invalidOptions(h: Harness): Promise<void> {
  const transport = await h.transport();
  for (const options of INVALID_OPTIONS) {
    await expectRejection(
      () => transport.subscribe(options, ack),
      'INVALID_OPTION',
      `subscribe(${JSON.stringify(options)})`,
    );
  }
}

async function invalidPatterns(h: Harness): Promise<void> {
  const transport = await h.transport();
  for (const pattern of ['task.*x', 'task..created', 'task.#.#x']) {
    await expectRejection(
      () => transport.subscribe({ pattern }, ack),
      'INVALID_PATTERN',
      `subscribe({ pattern: ${JSON.stringify(pattern)} })`,
    );
  }
}

async function closedRejects(h: Harness): Promise<void> {
  const transport = await h.transport();
  await transport.close();
  await expectRejection(() => transport.publish([h.message(TOPIC)]), 'CLOSED', 'publish() after close()');
  await expectRejection(
    () => transport.subscribe({ topics: [TOPIC] }, ack),
    'CLOSED',
    'subscribe() after close()',
  );
  await transport.close();
}

/** Scenario 15: bad input and use after close are rejected with typed errors. */
export const validationScenario: Scenario = {
  name: 'validation',
  tests: [
    {
      title:
        'subscribe() rejects out-of-range concurrency or visibility timeout and a missing topic with INVALID_OPTION',
      run: invalidOptions,
    },
    { title: 'subscribe() rejects a malformed pattern with INVALID_PATTERN', run: invalidPatterns },
    {
      title: 'publish() and subscribe() after close() reject with CLOSED; close() again resolves',
      run: closedRejects,
    },
  ],
};
