import type { DeadLetter, Delivery, SerializedError, Transport } from '../../../transport/transport';
import { expect } from '../../expect';
import { expectSameMessage } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.failing';
const GROUP = 'mailer';
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ERROR: SerializedError = { name: 'Error', message: 'mail server unreachable', code: 'HANDLER_FAILED' };

/** Polls the dead-letter list until it holds `count` letters, and returns them. */
async function awaitLetters(h: Harness, admin: Transport, count: number): Promise<DeadLetter[]> {
  let letters: DeadLetter[] = [];
  await h.waitFor(
    async () => {
      letters = await admin.deadLetters.list();
      return letters.length >= count;
    },
    () => `${count} dead letter(s) (listed ${letters.length})`,
  );
  return letters;
}

async function afterMaxAttempts(h: Harness): Promise<void> {
  const publisher = await h.transport();
  // Where instances share a backend, an operator's process reads the dead letters the worker wrote.
  const admin = await h.peer();
  let accept = false;
  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC], group: GROUP },
    {
      handle: (delivery: Delivery) => {
        if (accept) return delivery.ack();
        if (delivery.attempt < 3) return delivery.nack();
        return delivery.deadLetter({ reason: 'MAX_ATTEMPTS', error: ERROR });
      },
    },
  );
  const message = h.message(TOPIC, { key: 'task-1' });
  await publisher.publish([message]);
  await collector.waitForCount(3, { message: 'three attempts' });
  await awaitLetters(h, admin, 1);
  await h.quiet();
  const letters = await admin.deadLetters.list();
  expect(letters.length, 'dead letters after one message gave up').toBe(1);
  const [letter] = letters as [DeadLetter];
  expectSameMessage(letter.message, message, 'dead letter');
  expect(
    { group: letter.group, reason: letter.reason, error: letter.error, attempts: letter.attempts },
    'what the dead letter records',
  ).toEqual({ group: GROUP, reason: 'MAX_ATTEMPTS', error: ERROR, attempts: 3 });
  expect(typeof letter.id === 'string' && letter.id.length > 0, 'dead letter id is a non-empty string').toBe(
    true,
  );
  expectTimestamps(letter, collector.received[0]?.delivery.firstAttemptAt);
  expect(collector.received.length, 'a dead-lettered message is not delivered again').toBe(3);

  const count = async (filter: Parameters<Transport['deadLetters']['list']>[0]): Promise<number> =>
    (await admin.deadLetters.list(filter)).length;
  expect(
    {
      byGroup: await count({ group: GROUP }),
      byOtherGroup: await count({ group: 'other' }),
      byTopic: await count({ topic: TOPIC }),
      byOtherTopic: await count({ topic: 'conformance.other' }),
      byId: await count({ ids: [letter.id] }),
      byUnknownId: await count({ ids: ['no-such-letter'] }),
    },
    'list() filters',
  ).toEqual({ byGroup: 1, byOtherGroup: 0, byTopic: 1, byOtherTopic: 0, byId: 1, byUnknownId: 0 });

  accept = true;
  expect(
    await admin.deadLetters.redrive({ ids: [letter.id] }),
    'redrive() returns how many it sent back',
  ).toBe(1);
  await collector.waitForCount(4, { message: 'the redriven message' });
  await h.quiet();
  const redriven = collector.received[3]?.delivery;
  expectSameMessage(redriven?.message ?? message, message, 'redriven message');
  expect(redriven?.attempt, 'a redriven message starts again at attempt 1').toBe(1);
  expect(collector.received.length, 'the redriven message is delivered once').toBe(4);
  expect(await admin.deadLetters.list(), 'the list after redrive').toEqual([]);
}

function expectTimestamps(letter: DeadLetter, firstAttemptAt: number | undefined): void {
  for (const field of ['firstAttemptAt', 'lastAttemptAt', 'deadLetteredAt'] as const) {
    expect(letter[field], `${field} is an ISO 8601 timestamp`).toMatch(ISO_8601);
  }
  const first = Date.parse(letter.firstAttemptAt);
  const last = Date.parse(letter.lastAttemptAt);
  const deadAt = Date.parse(letter.deadLetteredAt);
  expect(first, 'firstAttemptAt is the first delivery time').toBe(firstAttemptAt);
  expect(
    first <= last && last <= deadAt,
    `firstAttemptAt <= lastAttemptAt <= deadLetteredAt (${first}, ${last}, ${deadAt})`,
  ).toBe(true);
}

async function purge(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const admin = await h.peer();
  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC], group: GROUP },
    { handle: (delivery) => delivery.deadLetter({ reason: 'REJECTED', error: ERROR }) },
  );
  const older = h.message(TOPIC, { label: 'older' });
  const newer = h.message(TOPIC, { label: 'newer' });
  await publisher.publish([older]);
  await awaitLetters(h, admin, 1);
  await publisher.publish([newer]);
  const letters = await awaitLetters(h, admin, 2);
  expect(
    letters.map((letter) => ({ id: letter.message.id, attempts: letter.attempts, reason: letter.reason })),
    'dead letters, oldest first',
  ).toEqual([
    { id: older.id, attempts: 1, reason: 'REJECTED' },
    { id: newer.id, attempts: 1, reason: 'REJECTED' },
  ]);
  expect(
    (await admin.deadLetters.list({ limit: 1 })).map((letter) => letter.message.id),
    'list({ limit: 1 })',
  ).toEqual([older.id]);

  const [oldest] = letters as [DeadLetter];
  expect(
    await admin.deadLetters.purge({ ids: [oldest.id] }),
    'purge({ ids }) returns how many it removed',
  ).toBe(1);
  expect(
    (await admin.deadLetters.list()).map((letter) => letter.message.id),
    'after purging one',
  ).toEqual([newer.id]);
  expect(await admin.deadLetters.purge(), 'purge() removes the rest').toBe(1);
  expect(await admin.deadLetters.list(), 'the list after purge()').toEqual([]);
  await h.quiet();
  expect(collector.ids(), 'purged letters are not delivered again').toEqual([older.id, newer.id]);
}

async function withoutGroup(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const admin = await h.peer();
  let calls = 0;
  const collector = await h.collect(
    await h.peer(),
    { topics: [TOPIC] },
    {
      handle: (delivery) =>
        ++calls > 1 ? delivery.ack() : delivery.deadLetter({ reason: 'REJECTED', error: ERROR }),
    },
  );
  const message = h.message(TOPIC);
  await publisher.publish([message]);
  const [letter] = await awaitLetters(h, admin, 1);
  expect(letter?.group, 'a dead letter of a subscriber without a group has no group').toBeUndefined();
  expect(await admin.deadLetters.redrive(), 'redrive() returns how many it sent back').toBe(1);
  await collector.waitForCount(2, { message: 'the redriven message' });
  const redriven = collector.received[1]?.delivery;
  expectSameMessage(redriven?.message ?? message, message, 'redriven message');
  expect(redriven?.attempt, 'a redriven message starts again at attempt 1').toBe(1);
  expect(await admin.deadLetters.list(), 'the list after redrive').toEqual([]);
}

/** Scenario 12: dead letters keep the reason, error, attempts and times; redrive and purge work. */
export const deadLettersScenario: Scenario = {
  name: 'dead-letters',
  tests: [
    {
      title:
        'a message dead-lettered at attempt 3 is listed with group, reason, error, attempts and times, then redriven',
      requires: ['groups', 'deadLetters'],
      run: afterMaxAttempts,
    },
    {
      title: 'purge() removes dead letters for good; list() is oldest first',
      requires: ['groups', 'deadLetters'],
      run: purge,
    },
    {
      title: 'a dead letter of a subscriber without a group has no group and can be redriven',
      requires: ['deadLetters'],
      run: withoutGroup,
    },
  ],
};
