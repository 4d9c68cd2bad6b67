import type { Transport } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { expect } from 'vitest';
import { DeliveryLog } from '../messages/delivery-log';
import { messages } from '../messages/test-messages';
import type { ConsumerProcess } from './consumer-process';
import type { ConsumerSubscription } from './consumer-protocol';

/** The group and the transports {@link expectKilledConsumerLosesNothing} runs on. */
export interface KilledConsumerScenario {
  readonly topic: string;
  readonly group: string;
  /** Each member's concurrency: how many deliveries the victim holds when it is killed. */
  readonly concurrency: number;
  /** Each member's visibility timeout, in milliseconds. */
  readonly visibilityTimeoutMs: number;
  /** Longest wait after the kill for every message the victim did not ack to reach the survivor, in milliseconds. */
  readonly redeliveryBoundMs: number;
  /** Starts the member to kill, a consumer process subscribed as `subscription` says. */
  startVictim(subscription: ConsumerSubscription): Promise<ConsumerProcess>;
  /** The transport of the other member, subscribed after the victim. */
  readonly survivor: Pick<Transport, 'subscribe'>;
  /** Publishes to the group's topic. */
  readonly publisher: Pick<Transport, 'publish'>;
}

/**
 * The SIGKILL scenario every durable transport must pass: two members of a group share the work while the victim
 * acks; then the victim holds a full set of deliveries unsettled and is SIGKILLed, and publishing goes on. Asserts
 * that every message the victim did not ack reaches the survivor within `redeliveryBoundMs`, each held one as a
 * redelivery (attempt 2 or more), and that nothing the victim acked is handed out again. The victim is killed
 * whatever happens.
 *
 * @example
 * ```ts
 * await expectKilledConsumerLosesNothing({
 *   topic: 'job.created',
 *   group: 'workers',
 *   concurrency: 8,
 *   visibilityTimeoutMs: 1_000,
 *   redeliveryBoundMs: 15_000,
 *   startVictim: (subscription) => startConsumerProcess(CONSUMER_MAIN, { transport: { url, prefix }, ...subscription }),
 *   survivor: transportA,
 *   publisher: transportB,
 * });
 * ```
 */
export async function expectKilledConsumerLosesNothing(scenario: KilledConsumerScenario): Promise<void> {
  const { topic, group, concurrency, visibilityTimeoutMs } = scenario;
  const subscription = { topics: [topic], group, concurrency, visibilityTimeoutMs };
  const victim = await scenario.startVictim(subscription);
  try {
    const survivor = new DeliveryLog();
    await scenario.survivor.subscribe(subscription, survivor.acking);
    await killWhileHolding(victim, survivor, scenario);
  } finally {
    await victim.kill('SIGKILL');
  }
}

async function killWhileHolding(
  victim: ConsumerProcess,
  survivor: DeliveryLog,
  { publisher, topic, concurrency, redeliveryBoundMs }: KilledConsumerScenario,
): Promise<void> {
  const published: string[] = [];
  const publish = async (label: string, count: number): Promise<void> => {
    const batch = messages(topic, label, count);
    await publisher.publish(batch);
    published.push(...batch.map((message) => message.id));
  };
  const handledByAnyone = (id: string): boolean => survivor.has(id) || victim.acked().has(id);

  // Both consumers share the work while the victim still acks.
  for (let round = 0; round < 10; round++) await publish(`a${round}`, 30);
  await waitFor(() => published.every(handledByAnyone), {
    timeoutMs: 10_000,
    message: () =>
      `the first ${published.length} messages handled (missing ${published.filter((id) => !handledByAnyone(id)).length})`,
  });
  await victim.waitForAcked(1, 5_000);

  // From now on the victim holds what it gets; keep publishing until it holds a full set.
  await victim.hold();
  const ackedBeforeDeath = victim.acked();
  let round = 0;
  while (victim.held().size < concurrency && round < 200) {
    await publish(`b${round++}`, 10);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await victim.waitForHeld(concurrency, 5_000);
  const held = victim.held();

  const exit = await victim.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');
  const killedAt = Date.now();
  for (let after = 0; after < 5; after++) await publish(`c${after}`, 20);

  const lost = (): string[] => published.filter((id) => !survivor.has(id) && !ackedBeforeDeath.has(id));
  await waitFor(() => lost().length === 0, {
    timeoutMs: redeliveryBoundMs,
    intervalMs: 20,
    message: () =>
      `every message not acked by the victim to reach the survivor (missing ${lost().join(', ')})`,
  });
  console.info(`kill: ${held.size} held messages redelivered ${Date.now() - killedAt} ms after SIGKILL`);

  // Everything the victim held came back, marked as a redelivery.
  for (const id of held) {
    expect(survivor.has(id), `held message ${id} redelivered`).toBe(true);
    const attempts = survivor.deliveries.filter((d) => d.id === id).map((d) => d.attempt);
    expect(Math.max(...attempts), `attempt of redelivered ${id}`).toBeGreaterThanOrEqual(2);
  }
  // Nothing the victim acked before it died is handed out again.
  expect([...ackedBeforeDeath].filter((id) => survivor.has(id))).toEqual([]);
  expect(victim.errors()).toEqual([]);
  expect(held.size).toBe(concurrency);
}
