import type { Delivery, GroupDeclaration, TransportSubscribeOptions } from '../../../transport/transport';
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
  { topics: [TOPIC], group: 'a b' },
  { topics: [TOPIC], group: '' },
  { topics: [TOPIC], group: 'x'.repeat(129) },
  { topics: [TOPIC], group: 'braces{x}' },
  { topics: [TOPIC], group: 'g', startFrom: 'middle' as 'latest' },
  { topics: [TOPIC], startFrom: 'earliest' },
];

const INVALID_DECLARATIONS: ReadonlyArray<GroupDeclaration> = [
  { group: 'a b', topics: [TOPIC] },
  { group: '', topics: [TOPIC] },
  { group: 'g' },
  { group: 'g', topics: [] },
  { group: 'g', topics: [TOPIC], startFrom: 'middle' as 'latest' },
  { group: undefined as unknown as string, topics: [TOPIC] },
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

async function invalidDeclarations(h: Harness): Promise<void> {
  const transport = await h.transport();
  for (const declaration of INVALID_DECLARATIONS) {
    await expectRejection(
      () => transport.declareGroup(declaration),
      'INVALID_OPTION',
      `declareGroup(${JSON.stringify(declaration)})`,
    );
  }
  await expectRejection(
    () => transport.declareGroup({ group: 'g', pattern: 'task.*x' }),
    'INVALID_PATTERN',
    'declareGroup({ pattern: "task.*x" })',
  );
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
  await expectRejection(
    () => transport.declareGroup({ group: 'g', topics: [TOPIC] }),
    'CLOSED',
    'declareGroup() after close()',
  );
  await transport.close();
}

/** Scenario 15: bad input and use after close are rejected with typed errors. */
export const validationScenario: Scenario = {
  name: 'validation',
  tests: [
    {
      title:
        'subscribe() rejects out-of-range concurrency or visibility timeout, a missing topic, a group name some transport could not use and a bad startFrom with INVALID_OPTION',
      run: invalidOptions,
    },
    {
      title: 'declareGroup() rejects a bad group name, missing topics or a bad startFrom the same way',
      run: invalidDeclarations,
    },
    { title: 'subscribe() rejects a malformed pattern with INVALID_PATTERN', run: invalidPatterns },
    {
      title:
        'publish(), subscribe() and declareGroup() after close() reject with CLOSED; close() again resolves',
      run: closedRejects,
    },
  ],
};
