import { createEventBus, defineEvent } from '@relaybus/core';
import { amqpTransport } from '@relaybus/transport-amqp';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }), {
  key: (data) => data.taskId,
});

const bus = createEventBus({
  events: [TaskCreated],
  transport: amqpTransport({
    url: process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    exchange: process.env['RELAYBUS_EXCHANGE'] ?? 'tasks',
  }),
});

let handled: () => void = () => {};
const done = new Promise<void>((resolve) => {
  handled = resolve;
});

// Awaiting subscribe declares the group's queues and binds them before going on, so the publish below is never
// missed. RabbitMQ keeps what is published from then on, also while no member is connected.
const subscription = await bus.subscribe(
  TaskCreated,
  (event) => {
    console.log(`mailing about task ${event.data.taskId}`);
    handled();
  },
  { group: 'mailer', concurrency: 16 },
);
// For a health check: 'active', or 'retrying' with subscription.lastError while the broker is unreachable.
console.log(`subscription ${subscription.state}`);

// Resolves once RabbitMQ confirmed the event (stored in the group's quorum queue).
await bus.publish(TaskCreated, { taskId: 't-1' });
await done;

// On shutdown: stop taking deliveries, finish in-flight handlers (bounded), ack them, close the connection.
await bus.close({ timeoutMs: 10_000 });
