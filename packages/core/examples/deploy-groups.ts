import { createEventBus, defineEvent, memoryTransport } from '@relaybus/core';
import { z } from 'zod';

const UserCreated = defineEvent('user.created', z.object({ userId: z.string(), email: z.string() }));
// One transport stands for the broker here; with redisTransport({ redis }) the calls are the same.
const transport = memoryTransport();

// At deploy time, or when the publishing side starts: from now on the group keeps every event of its types,
// even before its first worker runs. Declaring again is harmless.
const api = createEventBus({ events: [UserCreated], transport });
await api.declareGroup(UserCreated, { group: 'welcome-mail' });
await api.publish(UserCreated, { userId: 'u1', email: 'ada@example.com' });

// A worker started later handles what was published in between.
const worker = createEventBus({ events: [UserCreated], transport });
let welcomed = (): void => {};
const done = new Promise<void>((resolve) => {
  welcomed = resolve;
});
const sub = await worker.subscribe(
  UserCreated,
  (event) => {
    console.log(`welcome mail to ${event.data.email}`);
    welcomed();
  },
  { group: 'welcome-mail' },
);

// For a health check: 'active' once registered; 'retrying', with sub.lastError, while the broker is unreachable.
console.log(`welcome-mail subscription: ${sub.state}`);
await done;
await worker.close();
await api.close();
