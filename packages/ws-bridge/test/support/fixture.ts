import { createEventBus, defineEvent, type EventBus, memoryEventStore } from '@relaybus/core';
import { z } from 'zod';
import { createWsBridge, type WsBridge, type WsBridgeOptions } from '../../src/index';

export const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), n: z.number() }));
export const TaskCompleted = defineEvent('task.completed', z.object({ taskId: z.string(), n: z.number() }));
export const UserCreated = defineEvent('user.created', z.object({ userId: z.string() }));
export const events = [TaskCreated, TaskCompleted, UserCreated] as const;

/** Tokens the test `authenticate` accepts: the token is the principal id; `expired-*` expires in 300 ms. */
export const authenticate: WsBridgeOptions['authenticate'] = ({ token, cookies }) => {
  const value = token ?? cookies['session'];
  if (value === undefined || value.startsWith('bad')) return null;
  if (value.startsWith('short-')) return { id: value.slice(6), expiresAt: Date.now() + 400 };
  return { id: value };
};

export interface Fixture {
  readonly bridge: WsBridge;
  readonly bus: EventBus<(typeof events)[number]>;
  readonly store: ReturnType<typeof memoryEventStore>;
  readonly url: string;
  close(): Promise<void>;
}

/** A bridge on its own port over a memory transport and store. */
export async function startBridge(options: Partial<WsBridgeOptions> = {}): Promise<Fixture> {
  const store = memoryEventStore();
  const bus = createEventBus({ events, store, source: 'ws-bridge-test' });
  const bridge = createWsBridge({ store, port: 0, authenticate, heartbeatMs: 200, ...options });
  await bridge.ready;
  return {
    bridge,
    bus,
    store,
    url: `ws://127.0.0.1:${bridge.address().port}/relaybus`,
    async close() {
      await bridge.close({ timeoutMs: 1_000 });
      await bus.close();
      await store.close();
    },
  };
}
