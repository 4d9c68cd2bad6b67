import { createServer } from 'node:net';
import {
  InvalidOptionError,
  PayloadTooLargeError,
  RelaybusError,
  TransportError,
  TransportUnavailableError,
} from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { IncompatibleClientError, RedisUnavailableError, redisTransport } from '@relaybus/transport-redis';
import type { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { message, Received, useRedis } from './redis-fixture';
import { newClient } from './support/client';
import { forEachClient } from './support/for-each-client';

const TOPIC = 'task.created';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function keysUnder(redis: Redis, keyPrefix: string): Promise<string[]> {
  return redis.keys(`${keyPrefix}:*`);
}

forEachClient((flavour) => {
  const { redis, prefix, open } = useRedis('bad-input', flavour);

  it('refuses a prefix that would break key naming, and a group name core refuses for every transport', async () => {
    for (const bad of ['with space', 'brace{tag}', '', 'new\nline', 'x'.repeat(201)]) {
      expect(() => redisTransport({ redis, prefix: bad }), JSON.stringify(bad)).toThrow(InvalidOptionError);
    }
    const transport = open(prefix());
    // "a b" and "~e:stolen" used to be refused by a Redis-only rule; "a@b" and "a/b" used to pass it.
    for (const group of ['a b', 'a{b}', '~e:stolen', 'a@b', 'a/b', 'x'.repeat(129)]) {
      await expect(
        transport.subscribe({ topics: [TOPIC], group }, () => {}),
        group,
      ).rejects.toMatchObject({ name: 'InvalidOptionError', code: 'INVALID_OPTION', option: 'group' });
      await expect(transport.declareGroup({ group, topics: [TOPIC] }), group).rejects.toBeInstanceOf(
        InvalidOptionError,
      );
    }
    await expect(transport.subscribe({ topics: [TOPIC], group: 'a b' }, () => {})).rejects.toThrow(
      /letters, digits and "_\.:-"/,
    );
    await expect(transport.publish([message('task{created}', '1')])).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(transport.declareGroup({ group: 'g', topics: ['task{created}'] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'topics[0]',
    });
  });

  it('refuses a client it cannot work with: one with a keyPrefix, or one that is not ioredis', () => {
    const prefixed = newClient({ url: 'redis://127.0.0.1:6379' }, flavour, {
      lazyConnect: true,
      keyPrefix: 'app:',
    });
    try {
      const error = catching(() => redisTransport({ redis: prefixed }));
      expect(error).toBeInstanceOf(IncompatibleClientError);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: 'INCOMPATIBLE_CLIENT', command: 'client' });
      expect((error as Error).message).toMatch(/keyPrefix "app:".*"prefix" option/);
    } finally {
      prefixed.disconnect();
    }
    // A client of another library: it has duplicate() and status, but none of the ioredis commands.
    const other = { duplicate: () => other, status: 'ready' } as unknown as Redis;
    expect(catching(() => redisTransport({ redis: other }))).toMatchObject({
      code: 'INCOMPATIBLE_CLIENT',
      message: expect.stringMatching(/not an ioredis Redis or Cluster client.*\^5\.4\.0 and \^6\.0\.0/),
    });
  });

  it('rejects a batch with an oversized payload before writing any of it', async () => {
    const keyPrefix = prefix();
    const transport = open(keyPrefix, { maxPayloadBytes: 100 });
    const small = message(TOPIC, 'small');
    const big = { id: 'big', topic: TOPIC, body: { text: 'x'.repeat(200) } };
    const error = await transport.publish([small, big]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      transport: 'redis',
      messageId: 'big',
      maxBytes: 100,
    });
    expect((error as Error).message).toMatch(
      /messages\[1\].*nothing of the batch was sent.*raise maxPayloadBytes/,
    );
    expect(await keysUnder(redis, keyPrefix)).toEqual([]);
    // The limit is in UTF-8 bytes: 61 characters of JSON, 111 bytes.
    const wide = { id: 'wide', topic: TOPIC, body: { text: 'é'.repeat(50) } };
    await expect(transport.publish([wide])).rejects.toMatchObject({ messageId: 'wide', sizeBytes: 111 });
    const fits = { id: 'fits', topic: TOPIC, body: { text: 'é'.repeat(40) } };
    await expect(transport.publish([fits])).resolves.toBeUndefined();
  });

  it('dead-letters stream entries it cannot decode, with the reason, and keeps consuming', async () => {
    const keyPrefix = prefix();
    const transport = open(keyPrefix, { partitions: 1 });
    const received = new Received();
    await transport.subscribe({ topics: [TOPIC], group: 'g' }, received.acking);
    const stream = `${keyPrefix}:{${TOPIC}}:s:0`;
    await redis.xadd(stream, '*', 'foo', 'bar');
    await redis.xadd(stream, '*', 'v', '1', 'i', 'broken', 'b', '{not json');
    await redis.xadd(stream, '*', 'v', '9', 'i', 'future', 'b', '{}');
    await transport.publish([message(TOPIC, 'valid')]);
    await waitFor(() => received.entries.length === 1, { message: 'the valid message' });
    let letters = await transport.deadLetters.list();
    await waitFor(
      async () => {
        letters = await transport.deadLetters.list();
        return letters.length === 3;
      },
      { message: 'three dead letters' },
    );
    expect(received.ids()).toEqual(['valid']);
    expect(letters.map((letter) => [letter.reason, letter.group, letter.error.code])).toEqual([
      ['INVALID_ENVELOPE', 'g', 'INVALID_ENVELOPE'],
      ['INVALID_ENVELOPE', 'g', 'INVALID_ENVELOPE'],
      ['INVALID_ENVELOPE', 'g', 'INVALID_ENVELOPE'],
    ]);
    expect(letters[1]?.message.id).toBe('broken');
    expect(letters[1]?.error.message).toMatch(/not valid JSON/);
    await waitFor(async () => ((await redis.xpending(stream, 'g')) as [number])[0] === 0, {
      message: 'nothing left pending in the group',
    });
  });

  it('names the address when Redis is unreachable, after connectTimeoutMs', async () => {
    const port = await closedPort();
    const client = newClient({ url: `redis://127.0.0.1:${port}` }, flavour, {
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    const transport = redisTransport({ redis: client, prefix: prefix(), connectTimeoutMs: 300 });
    try {
      const startedAt = Date.now();
      const error = await transport.publish([message(TOPIC, '1')]).catch((caught: unknown) => caught);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(error).toBeInstanceOf(TransportUnavailableError);
      expect(error).toBeInstanceOf(RelaybusError);
      expect(error).toMatchObject({ code: 'TRANSPORT_UNAVAILABLE', address: `127.0.0.1:${port}` });
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      await expect(transport.subscribe({ topics: [TOPIC], group: 'g' }, () => {})).rejects.toMatchObject({
        name: 'RedisUnavailableError',
        code: 'TRANSPORT_UNAVAILABLE',
      });
      await expect(transport.declareGroup({ group: 'g', topics: [TOPIC] })).rejects.toBeInstanceOf(
        RedisUnavailableError,
      );
    } finally {
      await transport.close();
      client.disconnect();
    }
  });
});

function catching(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
