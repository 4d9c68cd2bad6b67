import { createEventBus, defineEvent } from '@relaybus/core';
import { redisTransport } from '@relaybus/transport-redis';
import { Redis } from 'ioredis';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string() }), {
  key: (data) => data.taskId,
});

const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
const bus = createEventBus({
  events: [TaskCreated],
  transport: redisTransport({ redis, prefix: process.env['RELAYBUS_PREFIX'] ?? 'tasks' }),
});

let handled: () => void = () => {};
const done = new Promise<void>((resolve) => {
  handled = resolve;
});

// Awaiting subscribe creates the group in Redis before going on, so the publish below is never missed. A new group
// starts at the earliest event Redis retains (startFrom: 'earliest', the default).
const subscription = await bus.subscribe(
  TaskCreated,
  (event) => {
    console.log(`mailing about task ${event.data.taskId}`);
    handled();
  },
  { group: 'mailer', concurrency: 16 },
);
// For a health check: 'active', or 'retrying' with subscription.lastError while Redis is unreachable.
console.log(`subscription ${subscription.state}`);

await bus.publish(TaskCreated, { taskId: 't-1' });
await done;

// On shutdown: stop reading, finish in-flight handlers (bounded), ack them, release leases.
await bus.close({ timeoutMs: 10_000 });
await redis.quit(); // the client is yours; the transport never quits it
