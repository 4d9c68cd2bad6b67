import type { OutboxJobReceiver } from '@relaybus/core';
import { InvalidOptionError, memoryTransport } from '@relaybus/core';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { resolveRelayOptions } from './relay-options';

const pool = { connect() {} } as unknown as Pool;
const transport = memoryTransport();
const queue = (name: string): OutboxJobReceiver => ({
  name,
  receiveFromOutbox: async () => ({ id: 'j', status: 'enqueued' }),
});

describe('the jobQueues option', () => {
  it('maps queues by name; none by default', () => {
    const resolved = resolveRelayOptions({ pool, transport, jobQueues: [queue('a'), queue('b')] });
    expect([...resolved.jobQueues.keys()]).toEqual(['a', 'b']);
    expect(resolveRelayOptions({ pool, transport }).jobQueues.size).toBe(0);
  });

  it('refuses two queues of one name, and what is not a queue, naming the entry', () => {
    expect(() => resolveRelayOptions({ pool, transport, jobQueues: [queue('a'), queue('a')] })).toThrow(
      /jobQueues\[1\].*second queue named "a"/,
    );
    const notAQueue = { name: 'a' } as unknown as OutboxJobReceiver;
    expect(() => resolveRelayOptions({ pool, transport, jobQueues: [notAQueue] })).toThrow(
      InvalidOptionError,
    );
    const notAList = queue('a') as unknown as OutboxJobReceiver[];
    expect(() => resolveRelayOptions({ pool, transport, jobQueues: notAList })).toThrow(/jobQueues/);
  });

  it('still needs a transport when it has job queues', () => {
    expect(() => resolveRelayOptions({ pool, jobQueues: [queue('a')] })).toThrow(/transport.*is required/);
  });
});
