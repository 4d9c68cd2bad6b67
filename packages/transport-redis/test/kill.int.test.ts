import { waitFor } from '@relaybus/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsumerProcess, startConsumerProcess } from './support/consumer-process';
import { forEachClient } from './support/for-each-client';
import { useRedisServer } from './support/redis-server';
import { DeliveryLog, messages, uniquePrefix, useTransports } from './support/transports';

const TOPIC = 'job.created';
const GROUP = 'workers';
const CONCURRENCY = 8;
const VISIBILITY_TIMEOUT_MS = 1_000;
/** Bound on redelivery after the kill: the visibility timeout plus generous room for reclaim passes. */
const REDELIVERY_BOUND_MS = 15_000;

forEachClient((flavour) => {
  describe('a consumer process killed with SIGKILL', () => {
    const server = useRedisServer();
    const open = useTransports(flavour);
    const victims: ConsumerProcess[] = [];
    afterEach(async () => {
      await Promise.all(victims.splice(0).map((victim) => victim.kill('SIGKILL')));
    });

    it('has its unacked messages redelivered to the survivor within seconds, and none is lost', async () => {
      const connection = { url: server().url };
      const prefix = uniquePrefix('kill');
      const victim = await startConsumerProcess({
        connection,
        flavour,
        prefix,
        topics: [TOPIC],
        group: GROUP,
        concurrency: CONCURRENCY,
        visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
      });
      victims.push(victim);
      const survivorLog = new DeliveryLog();
      const { transport: survivor } = open(connection, prefix);
      await survivor.subscribe(
        {
          topics: [TOPIC],
          group: GROUP,
          concurrency: CONCURRENCY,
          visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
        },
        survivorLog.acking,
      );
      const { transport: publisher } = open(connection, prefix);
      const published: string[] = [];
      const publish = async (label: string, count: number): Promise<void> => {
        const batch = messages(TOPIC, label, count);
        await publisher.publish(batch);
        published.push(...batch.map((message) => message.id));
      };
      const handledByAnyone = (id: string): boolean => survivorLog.has(id) || victim.acked().has(id);

      // Both consumers share the work while the victim still acks.
      for (let round = 0; round < 10; round++) await publish(`a${round}`, 30);
      await waitFor(() => published.every(handledByAnyone), {
        timeoutMs: 10_000,
        message: () =>
          `the first ${published.length} messages handled (missing ${published.filter((id) => !handledByAnyone(id)).length})`,
      });
      await victim.waitForAcked(1, 5_000);

      // From now on the victim holds what it gets; keep publishing until it holds a full set of leases.
      await victim.hold();
      const ackedBeforeDeath = victim.acked();
      let round = 0;
      while (victim.held().size < CONCURRENCY && round < 200) {
        await publish(`b${round++}`, 10);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await victim.waitForHeld(CONCURRENCY, 5_000);
      const held = victim.held();

      const exit = await victim.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      const killedAt = Date.now();
      for (let after = 0; after < 5; after++) await publish(`c${after}`, 20);

      const lost = (): string[] =>
        published.filter((id) => !survivorLog.has(id) && !ackedBeforeDeath.has(id));
      await waitFor(() => lost().length === 0, {
        timeoutMs: REDELIVERY_BOUND_MS,
        intervalMs: 20,
        message: () =>
          `every message not acked by the victim to reach the survivor (missing ${lost().join(', ')})`,
      });
      console.info(`kill: ${held.size} held messages redelivered ${Date.now() - killedAt} ms after SIGKILL`);

      // Everything the victim held came back, marked as a redelivery.
      for (const id of held) {
        expect(survivorLog.has(id), `held message ${id} redelivered`).toBe(true);
        const attempts = survivorLog.deliveries.filter((d) => d.id === id).map((d) => d.attempt);
        expect(Math.max(...attempts), `attempt of redelivered ${id}`).toBeGreaterThanOrEqual(2);
      }
      // Nothing the victim acked before it died is handed out again.
      const reHandled = [...ackedBeforeDeath].filter((id) => survivorLog.has(id));
      expect(reHandled).toEqual([]);
      expect(victim.errors()).toEqual([]);
      expect(held.size).toBe(CONCURRENCY);
    }, 40_000);
  });
});
