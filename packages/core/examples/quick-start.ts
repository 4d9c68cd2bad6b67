import { createEventBus, defineEvent } from '@relaybus/core';
import { z } from 'zod';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string() }), {
  key: (data) => data.taskId, // events of one task are handled in order within a group
});
const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string() }));

const bus = createEventBus({ events: [TaskCreated, TaskCompleted], source: 'task-api' });

// `await` resolves once the transport has registered the subscription: nothing published after it is missed.
await bus.subscribe(
  TaskCreated,
  async (event, ctx) => {
    console.log(`mail: new task "${event.data.title}"`); // event.data is typed
    await ctx.publish(TaskCompleted, { taskId: event.data.taskId }); // causation + correlation carried
  },
  { group: 'mailer', concurrency: 8, retry: { attempts: 5 } },
);

let finished = (): void => {};
const done = new Promise<void>((resolve) => {
  finished = resolve;
});
// A pattern subscription is typed as the union of the catalog events it matches.
await bus.subscribe('task.*', (event) => {
  console.log(`audit: ${event.type} ${event.data.taskId}`);
  if (event.type === 'task.completed') finished();
});

await bus.publish(TaskCreated, { taskId: 't1', title: 'Write docs' }); // validated, then handed to the transport
await done;
await bus.close({ timeoutMs: 10_000 }); // finish in-flight handlers, then close
