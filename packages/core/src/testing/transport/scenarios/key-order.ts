import type { TransportMessage } from '../../../transport/transport';
import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import { decodeBody } from '../assertions';
import type { Harness } from '../harness';
import type { Scenario } from '../scenario';

const TOPIC = 'conformance.ordered';
const KEYS = 20;
const PER_KEY = 25;
const CONSUMERS = 3;
const CONCURRENCY = 4;
/** This message is nacked once; every later message of its key must wait for its redelivery. */
const NACKED = { key: 'key-7', sequence: 5 };

/** Small deterministic PRNG (mulberry32) so a failing run can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function orderedByKey(h: Harness): Promise<void> {
  const publisher = await h.transport();
  const keys = Array.from({ length: KEYS }, (_, index) => `key-${index}`);
  const handled = new Map<string, number[]>(keys.map((key) => [key, []]));
  const inFlightKeys = new Set<string>();
  const violations: string[] = [];
  const nackedAttempts: number[] = [];
  const delayMs = random(0x5eed);

  for (let consumer = 0; consumer < CONSUMERS; consumer++) {
    const transport = await h.peer();
    await transport.subscribe(
      { topics: [TOPIC], group: 'ordered', concurrency: CONCURRENCY },
      async (delivery) => {
        const { key, body } = delivery.message;
        const sequence = sequenceOf(body);
        if (key === undefined) {
          violations.push(`${delivery.message.id} arrived without its key`);
          return delivery.ack();
        }
        if (inFlightKeys.has(key))
          violations.push(`${delivery.message.id}: another ${key} message was still in flight`);
        inFlightKeys.add(key);
        await sleep(Math.floor(delayMs() * 3));
        // Leave the in-flight set before settling: settling may synchronously start the next delivery of this key.
        inFlightKeys.delete(key);
        if (key === NACKED.key && sequence === NACKED.sequence) {
          nackedAttempts.push(delivery.attempt);
          if (delivery.attempt === 1) return delivery.nack();
        }
        handled.get(key)?.push(sequence);
        return delivery.ack();
      },
    );
  }

  // Round-robin over keys, in awaited batches: the publish order of each key is unambiguous.
  const all: TransportMessage[] = [];
  for (let sequence = 0; sequence < PER_KEY; sequence++) {
    for (const key of keys) all.push(h.message(TOPIC, { key, label: key, data: { order: sequence } }));
  }
  for (let start = 0; start < all.length; start += 50) await publisher.publish(all.slice(start, start + 50));

  const total = (): number => [...handled.values()].reduce((sum, list) => sum + list.length, 0);
  await h.waitFor(
    () => total() >= KEYS * PER_KEY,
    () =>
      `${KEYS * PER_KEY} ordered messages to be handled (got ${total()}; violations: ${violations.join('; ') || 'none'})`,
    h.ms(15_000),
  );
  await h.quiet();
  expect(violations, 'messages of one key are handed out one at a time').toEqual([]);
  const inOrder = Array.from({ length: PER_KEY }, (_, index) => index);
  for (const key of keys) {
    expect(handled.get(key), `handling order of ${key} equals its publish order`).toEqual(inOrder);
  }
  expect(nackedAttempts, `${NACKED.key} #${NACKED.sequence} was nacked once, then redelivered`).toEqual([
    1, 2,
  ]);
}

function sequenceOf(body: unknown): number {
  const data = (decodeBody(body) as { data?: { order?: unknown } } | undefined)?.data;
  return typeof data?.order === 'number' ? data.order : Number.NaN;
}

/** Scenario 10: per-key order under competing consumers, including across a nack. */
export const keyOrderScenario: Scenario = {
  name: 'key-order',
  tests: [
    {
      title: `${KEYS} keys x ${PER_KEY} messages over ${CONSUMERS} consumers: each key is handled in publish order, a nack holding its key back`,
      requires: ['groups', 'orderedByKey'],
      run: orderedByKey,
    },
  ],
};
