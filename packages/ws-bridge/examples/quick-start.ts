import { createEventBus, defineEvent, type EventOf, memoryEventStore } from '@relaybus/core';
import { createWsBridge } from '@relaybus/ws-bridge';
import { createBridgeClient } from '@relaybus/ws-bridge/client';
import { WebSocket } from 'ws';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }));
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));
const events = [TaskCreated, TaskCompleted] as const;
type AppEvent = EventOf<(typeof events)[number]>; // the envelopes a client receives, typed by the catalog

// The bridge streams what the bus appends to the store, and replays from it to clients that reconnect.
const store = memoryEventStore();
const bus = createEventBus({ events, store, source: 'task-api' });
const bridge = createWsBridge({
  store,
  port: 0, // any free port; give `server` instead to share your HTTP server
  authenticate: ({ token }) => (token === 'demo-token' ? { id: 'user-1' } : null),
});
await bridge.ready;

// What a page runs. A browser has a global WebSocket and needs no `WebSocket` option; Node 20 takes the `ws` one.
const client = createBridgeClient<AppEvent>({
  url: `ws://127.0.0.1:${bridge.address().port}/relaybus`,
  token: 'demo-token', // sent as a WebSocket subprotocol entry, so it never lands in a URL
  WebSocket,
});
let done = (): void => {};
const received = new Promise<void>((resolve) => {
  done = resolve;
});
const sub = client.subscribe({ pattern: 'task.*' }, (event) => {
  console.log(`received ${event.type} ${event.data.taskId}`); // event: the task.* members of AppEvent
  done();
});

// `ready` settles once the server confirmed the subscription: what is published from then on reaches it.
await sub.ready;
await bus.publish(TaskCreated, { taskId: 't1', title: 'Write docs' });
await received;

client.close();
await bridge.close(); // says goodbye to the clients still connected, then closes its server
await bus.close();
await store.close();
