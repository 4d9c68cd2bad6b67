import type { Delivery } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { expect, it } from 'vitest';
import { forEachClient } from './support/for-each-client';
import { useProxiedRedis } from './support/proxied-redis';
import { uniquePrefix } from './support/transports';

const TOPIC = 'ledger.posted';
const GROUP = 'balances';
const COUNT = 40;
const HANDLER_MS = 40;
/** One partition, so the two members compete for it; a short lease, so the handover happens within the test. */
const OPTIONS = { partitions: 1, leaseTtlMs: 1_000, blockMs: 200 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Handling {
  readonly member: string;
  readonly id: string;
  readonly startedAt: number;
  endedAt: number | undefined;
}

forEachClient((flavour) => {
  const { server, open, startProxy } = useProxiedRedis(flavour);

  it('a member cut off from Redis stops handing out before its lease can pass; the next owner goes on in order', async () => {
    const proxy = await startProxy();
    const prefix = uniquePrefix('fencing');
    const handlings: Handling[] = [];
    const handler =
      (member: string) =>
      async (delivery: Delivery): Promise<void> => {
        const handling: Handling = {
          member,
          id: delivery.message.id,
          startedAt: performance.now(),
          endedAt: undefined,
        };
        handlings.push(handling);
        await sleep(HANDLER_MS);
        handling.endedAt = performance.now();
        await delivery.ack();
      };
    // The cut-off member reaches Redis through the proxy and owns the only partition; the other goes direct.
    await open({ url: proxy.url }, prefix, OPTIONS).transport.subscribe(
      { topics: [TOPIC], group: GROUP },
      handler('cut-off'),
    );
    const { transport: publisher } = open({ url: server().url }, prefix, OPTIONS);
    await open({ url: server().url }, prefix, OPTIONS).transport.subscribe(
      { topics: [TOPIC], group: GROUP },
      handler('survivor'),
    );
    const sent = Array.from({ length: COUNT }, (_, seq) => ({
      id: `k#${seq}`,
      topic: TOPIC,
      key: 'k',
      body: { seq },
    }));
    await publisher.publish(sent);
    // Everything is read ahead into the cut-off member; it has handled a few when the network fails.
    await waitFor(() => handlings.length >= 3, { timeoutMs: 5_000, message: 'the first messages handled' });
    proxy.partition(true);
    const firstHandled = (id: string): boolean => handlings.some((handling) => handling.id === id);
    await waitFor(() => sent.every((message) => firstHandled(message.id)), {
      timeoutMs: 15_000,
      message: () => `all ${COUNT} messages handled (${new Set(handlings.map((h) => h.id)).size} so far)`,
    });
    // The network heals: the cut-off member reconnects and must not hand out anything it still had queued.
    proxy.partition(false);
    proxy.cutAll();
    await sleep(2 * OPTIONS.leaseTtlMs);

    const overlaps = handlings.flatMap((a, index) =>
      handlings
        .slice(index + 1)
        .filter((b) => b.member !== a.member && b.startedAt < (a.endedAt ?? Number.POSITIVE_INFINITY))
        .filter((b) => a.startedAt < (b.endedAt ?? Number.POSITIVE_INFINITY))
        .map((b) => `${a.member} ${a.id} and ${b.member} ${b.id}`),
    );
    expect(overlaps).toEqual([]);
    const firstSeqs = [...new Set(handlings.map((handling) => handling.id))].map((id) => Number(id.slice(2)));
    expect(firstSeqs).toEqual(sent.map((_, seq) => seq));
    // The cut-off member handed out nothing once the survivor had started.
    const takeover = Math.min(...handlings.filter((h) => h.member === 'survivor').map((h) => h.startedAt));
    expect(handlings.filter((h) => h.member === 'cut-off' && h.startedAt > takeover)).toEqual([]);
  }, 30_000);
});
