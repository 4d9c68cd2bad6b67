import { silentLogger, type Transport } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { DeliveryLog, messages } from '@relaybus/test-support';
import { natsTransport } from '@relaybus/transport-nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from './support/nats-server';

const TOPIC = 'order.placed';
const RESUME_BOUND_MS = 30_000;

describe('a nats-server killed and restarted on the same port and store', () => {
  let server: NatsServer;
  const transports: Transport[] = [];
  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    await Promise.all(transports.splice(0).map((transport) => transport.close({ timeoutMs: 1_000 })));
    await server?.stop();
  });

  it('loses nothing it acknowledged, and group and group-less consumers resume by themselves', async () => {
    const open = (): Transport => {
      const transport = natsTransport({
        servers: server.url,
        prefix: 'restart',
        ackWaitMs: 1_000,
        logger: silentLogger,
      });
      transports.push(transport);
      return transport;
    };
    const publisher = open();
    const group = new DeliveryLog();
    const listener = new DeliveryLog();
    await open().subscribe({ topics: [TOPIC], group: 'billing', concurrency: 4 }, group.acking);
    await open().subscribe({ topics: [TOPIC] }, listener.acking);
    // A group with no member until after the restart: what it receives can only come from the server's store.
    await publisher.declareGroup({ group: 'audit', topics: [TOPIC] });

    const before = messages(TOPIC, 'before', 100);
    await publisher.publish(before);
    await waitFor(() => group.missing(ids(before)).length === 0, {
      timeoutMs: 10_000,
      message: 'the first batch',
    });
    // Acknowledged by the server (publish resolved on its acks), then the server dies without any shutdown.
    const unhandled = messages(TOPIC, 'acked', 200);
    await publisher.publish(unhandled);
    await server.kill();
    await server.restart();

    const after = messages(TOPIC, 'after', 100);
    await waitFor(
      async () =>
        publisher.publish(after).then(
          () => true,
          () => false,
        ),
      { timeoutMs: RESUME_BOUND_MS, intervalMs: 200, message: 'a publish to succeed after the restart' },
    );
    const expected = ids([...before, ...unhandled, ...after]);
    await waitFor(() => group.missing(expected).length === 0, {
      timeoutMs: RESUME_BOUND_MS,
      message: () => `group "billing" to handle everything (missing ${group.missing(expected).length})`,
    });
    await waitFor(() => listener.missing(ids(after)).length === 0, {
      timeoutMs: RESUME_BOUND_MS,
      message: () =>
        `the group-less subscriber to receive what was published after the restart (missing ${listener.missing(ids(after)).length})`,
    });
    const audit = new DeliveryLog();
    await open().subscribe({ topics: [TOPIC], group: 'audit', concurrency: 8 }, audit.acking);
    await waitFor(() => audit.missing(expected).length === 0, {
      timeoutMs: RESUME_BOUND_MS,
      message: () =>
        `group "audit", first joined after the restart, to receive every acknowledged message (missing ${audit.missing(expected).join(', ')})`,
    });
    expect(group.missing(expected)).toEqual([]);
  }, 90_000);
});

function ids(list: ReadonlyArray<{ readonly id: string }>): string[] {
  return list.map((message) => message.id);
}
