import { createEventBus, defineEvent, type Logger } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { IncompatibleClientError, redisTransport } from '@relaybus/transport-redis';
import type { Cluster, Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { message, Received, useRedis } from './redis-fixture';
import { forEachClient } from './support/for-each-client';

const TOPIC = 'task.created';

/**
 * The real client, answering `XREADGROUP` with a `Map` (as a client with another RESP3 mapping might) while `odd.on`
 * is set; its duplicates too. Everything else goes to Redis unchanged.
 */
function withOddReadReplies(client: Redis | Cluster, odd: { on: boolean }): Redis {
  return new Proxy(client, {
    get(target, property) {
      if (property === 'duplicate') {
        return (...args: unknown[]) =>
          withOddReadReplies((target.duplicate as (...a: unknown[]) => Redis)(...args), odd);
      }
      if (property === 'call') {
        return async (command: string, ...args: unknown[]) => {
          const reply: unknown = await (target.call as (...a: unknown[]) => Promise<unknown>)(
            command,
            ...args,
          );
          if (!odd.on || command !== 'XREADGROUP' || !Array.isArray(reply)) return reply;
          return new Map(reply as Array<[string, unknown]>);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Redis;
}

/** A logger that keeps what was logged at error level. */
function errorLog(): {
  readonly logger: Logger;
  readonly errors: Array<{ message: string; error: unknown }>;
} {
  const errors: Array<{ message: string; error: unknown }> = [];
  const noop = (): void => {};
  return {
    errors,
    logger: {
      debug: noop,
      info: noop,
      warn: noop,
      error: (message, fields) => errors.push({ message, error: fields?.['error'] }),
    },
  };
}

forEachClient((flavour) => {
  const { redis, prefix, open } = useRedis('incompatible', flavour);

  it('fails subscribe at once, through the bus too, when the client answers XREADGROUP in an unknown shape', async () => {
    const { logger, errors } = errorLog();
    const reported: Array<[unknown, unknown]> = [];
    const transport = redisTransport({
      redis: withOddReadReplies(redis, { on: true }),
      prefix: prefix(),
      logger,
      onError: (error, delivery) => reported.push([error, delivery]),
    });
    try {
      const failure = await transport
        .subscribe({ topics: [TOPIC], group: 'mailer' }, () => {})
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(IncompatibleClientError);
      expect(failure).toMatchObject({ code: 'INCOMPATIBLE_CLIENT', command: 'XREADGROUP' });
      expect(errors.map((entry) => entry.error)).toEqual([failure]);
      expect(reported).toEqual([[failure, undefined]]);

      // The bus does not retry it: the subscription fails, visibly.
      const TaskCreated = defineEvent(TOPIC, z.object({ taskId: z.string() }));
      const bus = createEventBus({ events: [TaskCreated], transport, logger });
      const sub = bus.subscribe(TaskCreated, () => {}, { group: 'mailer' });
      await expect(sub).rejects.toBeInstanceOf(IncompatibleClientError);
      expect(sub.state).toBe('failed');
      expect(sub.lastError).toBeInstanceOf(IncompatibleClientError);
      await bus.close();
    } finally {
      await transport.close();
    }
  });

  it('stops a subscription whose replies turn unreadable, reports it, and leaves its messages to another member', async () => {
    const keyPrefix = prefix();
    const odd = { on: false };
    const { logger, errors } = errorLog();
    const reported: unknown[] = [];
    const transport = redisTransport({
      redis: withOddReadReplies(redis, odd),
      prefix: keyPrefix,
      logger,
      onError: (error) => reported.push(error),
      blockMs: 200,
      leaseTtlMs: 1_000,
    });
    try {
      const first = new Received();
      await transport.subscribe({ topics: [TOPIC], group: 'mailer' }, first.acking);
      const publisher = open(keyPrefix);
      await publisher.publish([message(TOPIC, 'before')]);
      await waitFor(() => first.ids().includes('before'), { message: 'the first message handled' });

      odd.on = true;
      await publisher.publish([message(TOPIC, 'after')]);
      await waitFor(() => errors.length > 0, { message: 'the unreadable reply reported at error level' });
      expect(errors[0]?.error).toBeInstanceOf(IncompatibleClientError);
      expect(errors[0]?.message).toMatch(/stops/);
      expect(reported).toEqual([errors[0]?.error]);

      // Nothing is lost in silence: another member of the group gets what the stopped one could not read.
      const next = new Received();
      await open(keyPrefix).subscribe({ topics: [TOPIC], group: 'mailer' }, next.acking);
      await waitFor(() => next.ids().includes('after'), {
        timeoutMs: 10_000,
        message: 'the message reaching the other member',
      });
      expect(first.ids()).toEqual(['before']);
    } finally {
      await transport.close();
    }
  });
});
