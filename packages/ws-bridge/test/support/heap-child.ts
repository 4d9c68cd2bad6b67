// Run with --expose-gc: 100 clients, 10 of which stop reading, while 3,000 events of 4 KB stream through one bridge.
// Prints the heap before and after (after gc) and what the clients saw, as one JSON line.
import { createEventBus, memoryEventStore } from '@relaybus/core';
import { createWsBridge } from '../../src/index';
import { authenticate, events, UserCreated } from './fixture';
import { TestSocket } from './test-socket';

const gc = (globalThis as { gc?: () => void }).gc as () => void;
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

// The store keeps every event: measure it apart, by publishing the same volume before the clients connect.
const store = memoryEventStore();
const bus = createEventBus({ events, store, source: 'heap' });
const bridge = createWsBridge({
  store,
  port: 0,
  authenticate,
  backpressure: { maxBytes: 256 * 1024, maxEvents: 500 },
});
await bridge.ready;
const url = `ws://127.0.0.1:${bridge.address().port}/relaybus`;
const clients = await Promise.all(Array.from({ length: 100 }, () => TestSocket.open(url)));
for (const client of clients) client.send({ type: 'subscribe', id: 'r', sub: 's', pattern: 'user.*' });
await Promise.all(clients.map((client) => client.next('subscribed')));
const stalled = clients.slice(0, 10);
for (const client of stalled) (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
const healthy = clients.slice(10);
// Healthy clients only count events; they keep no frames (so their memory does not count).
let received = 0;
for (const client of healthy) {
  client.ws.removeAllListeners('message');
  client.ws.on('message', () => {
    received++;
  });
}
const payload = 'x'.repeat(4_000);
async function burst(count: number, offset: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    await bus.publish(UserCreated, { userId: `${offset + n}-${payload}` });
    if (n % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
  }
}
await burst(500, 0);
await new Promise((resolve) => setTimeout(resolve, 500));
const before = heap();
await burst(3_000, 500);
const deadline = Date.now() + 20_000;
while (received < 90 * 3_500 && Date.now() < deadline)
  await new Promise((resolve) => setTimeout(resolve, 50));
const storeBytes = 3_000 * 4_300;
const after = heap();
const stats = bridge.stats();
process.stdout.write(
  `${JSON.stringify({ before, after, grownWithoutStore: after - before - storeBytes, received, expected: 90 * 3_500, slowConsumers: stats.slowConsumers, connections: stats.connections })}\n`,
);
for (const client of clients) client.ws.terminate();
await bridge.close({ timeoutMs: 500 });
await bus.close();
process.exit(0);
