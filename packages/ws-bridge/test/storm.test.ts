import { createEventBus, memoryEventStore } from '@relaybus/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWsBridge, type GoodbyeMessage } from '../src/index';
import { authenticate, events, TaskCreated } from './support/fixture';
import { TestSocket } from './support/test-socket';

const CLIENTS = 2_000;

describe('reconnect storm', () => {
  const store = memoryEventStore();
  const bus = createEventBus({ events, store, source: 'storm' });
  afterAll(async () => {
    await bus.close();
  });

  it(`${CLIENTS} clients dropped at once by a node going away all resume on another node with no gap`, async () => {
    const first = createWsBridge({ store, port: 0, authenticate, goodbye: { minMs: 0, spreadMs: 2_000 } });
    const second = createWsBridge({
      store,
      port: 0,
      authenticate,
      // Fewer handshakes per second than clients coming back: the rest wait in line instead of failing.
      limits: { handshakesPerSecond: 800 },
    });
    await Promise.all([first.ready, second.ready]);
    const url = (port: number): string => `ws://127.0.0.1:${port}/relaybus`;
    const clients: TestSocket[] = [];
    for (let batch = 0; batch < CLIENTS / 200; batch++) {
      const opened = await Promise.all(
        Array.from({ length: 200 }, () => TestSocket.open(url(first.address().port))),
      );
      for (const socket of opened) socket.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*' });
      await Promise.all(opened.map((socket) => socket.next('subscribed', () => true, 20_000)));
      clients.push(...opened);
    }
    for (let n = 0; n < 5; n++) await bus.publish(TaskCreated, { taskId: 'x', n });
    await Promise.all(
      clients.map((socket) => socket.until(() => socket.events().length === 5, '5 events', 20_000)),
    );

    const closing = first.close({ timeoutMs: 5_000 });
    const delays = await Promise.all(clients.map((socket) => socket.next('goodbye', () => true, 20_000)));
    await closing;
    // Published while every client is away.
    for (let n = 5; n < 10; n++) await bus.publish(TaskCreated, { taskId: 'x', n });
    const started = Date.now();
    const again = await Promise.all(
      clients.map(async (socket, index) => {
        const goodbye = delays[index] as GoodbyeMessage;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, goodbye.retryAfterMs - (Date.now() - started))),
        );
        const last = socket.events().at(-1)?.position as string;
        const next = await TestSocket.open(url(second.address().port), 'alice').catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          return TestSocket.open(url(second.address().port), 'alice');
        });
        next.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'task.*', from: last });
        await next.next('subscribed', () => true, 30_000);
        return next;
      }),
    );
    for (let n = 10; n < 15; n++) await bus.publish(TaskCreated, { taskId: 'x', n });
    const expected = Array.from({ length: 15 }, (_, n) => n);
    await Promise.all(
      again.map((socket) =>
        socket.until(() => socket.events().length === 10, 'the missed and the new events', 30_000),
      ),
    );
    for (const [index, socket] of again.entries()) {
      const seen = [...(clients[index] as TestSocket).events(), ...socket.events()].map(
        (frame) => (frame.event as { data: { n: number } }).data.n,
      );
      expect(seen).toEqual(expected);
    }
    const spread = delays.map((goodbye) => goodbye.retryAfterMs);
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(1_000);
    for (const socket of again) socket.ws.terminate();
    await second.close({ timeoutMs: 2_000 });
  }, 120_000);
});
