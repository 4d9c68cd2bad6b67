import { createEventBus, defineEvent } from '@relaybus/core';
import { natsTransport } from '@relaybus/transport-nats';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }), {
  key: (data) => data.taskId,
});

const bus = createEventBus({
  events: [TaskCreated],
  transport: natsTransport({
    servers: process.env['NATS_URL'] ?? '127.0.0.1:4222',
    prefix: process.env['RELAYBUS_PREFIX'] ?? 'tasks',
  }),
});

let handled: () => void = () => {};
const done = new Promise<void>((resolve) => {
  handled = resolve;
});

// Awaiting subscribe creates the group's durable consumers before going on, so the publish below is never missed.
// A new group starts at the earliest message the stream retains (startFrom: 'earliest', the default).
const subscription = await bus.subscribe(
  TaskCreated,
  (event) => {
    console.log(`mailing about task ${event.data.taskId}`);
    handled();
  },
  { group: 'mailer', concurrency: 16 },
);
// For a health check: 'active', or 'retrying' with subscription.lastError while NATS is unreachable.
console.log(`subscription ${subscription.state}`);

await bus.publish(TaskCreated, { taskId: 't-1' });
await done;

// On shutdown: stop pulling, finish in-flight handlers (bounded), ack them, close the connection it opened.
await bus.close({ timeoutMs: 10_000 });
