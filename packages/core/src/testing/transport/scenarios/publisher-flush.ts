import type { Transport, TransportMessage } from '../../../transport/transport';
import { expect } from '../../expect';
import { expectExactlyOnce, idsOf } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.flushed';
const MESSAGES = 500;

/** Starts one publish() per message without awaiting any, then awaits close(); returns each publish's outcome. */
async function publishThenClose(
  h: Harness,
  publisher: Transport,
): Promise<{ sent: TransportMessage[]; failures: string[] }> {
  const sent = h.messages(TOPIC, MESSAGES, { label: 'flushed' });
  const pending = sent.map((message) => publisher.publish([message]));
  await publisher.close({ timeoutMs: h.timeoutMs });
  const outcomes = await Promise.allSettled(pending);
  const failures = outcomes.flatMap((outcome, index) =>
    outcome.status === 'rejected' ? [`${sent[index]?.id}: ${String(outcome.reason)}`] : [],
  );
  return { sent, failures };
}

async function publishesResolve(h: Harness): Promise<void> {
  const { failures } = await publishThenClose(h, await h.transport());
  expect(failures, `every publish() started before close() resolves (${failures.length} rejected)`).toEqual(
    [],
  );
}

async function publishesReachAnotherProcess(h: Harness): Promise<void> {
  const consumer = await h.newInstance();
  const collector = await h.collect(consumer, { topics: [TOPIC] });
  const { sent, failures } = await publishThenClose(h, await h.newInstance());
  expect(failures, `every publish() started before close() resolves (${failures.length} rejected)`).toEqual(
    [],
  );

  const expected = idsOf(sent);
  await h.waitForIds(
    () => collector.ids(),
    expected,
    'a consumer on another instance after the publisher closed',
  );
  await h.quiet();
  expectExactlyOnce(collector.ids(), expected, 'consumer on another instance');
}

/** Scenario 14: close() flushes every publish started before it. */
export const publisherFlushScenario: Scenario = {
  name: 'publisher-flush',
  tests: [
    {
      title: `${MESSAGES} publish() calls not awaited before close() all resolve`,
      run: publishesResolve,
    },
    {
      title: `${MESSAGES} messages published without awaiting, then close(): another instance receives all of them`,
      requires: ['sharedBackend'],
      run: publishesReachAnotherProcess,
    },
  ],
};
