import { createServer } from 'node:net';
import { InvalidOptionError, RelaybusError } from '@relaybus/core';
import { waitFor } from '@relaybus/core/testing';
import { PayloadTooLargeError, RedisUnavailableError, redisTransport } from '@relaybus/transport-redis';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { message, Received, useRedis } from './redis-fixture';

const TOPIC = 'task.created';
const { redis, prefix, open } = useRedis('bad-input');

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function keysUnder(keyPrefix: string): Promise<string[]> {
  return redis.keys(`${keyPrefix}:*`);
}

describe('bad input', () => {
  it('refuses a prefix or group name that would break key naming, up front', async () => {
    for (const bad of ['with space', 'brace{tag}', '', 'new\nline', 'x'.repeat(201)]) {
      expect(() => redisTransport({ redis, prefix: bad }), JSON.stringify(bad)).toThrow(InvalidOptionError);
    }
    const transport = open(prefix());
    for (const group of ['with space', 'a{b}', '~e:stolen']) {
      await expect(
        transport.subscribe({ topics: [TOPIC], group }, () => {}),
        group,
      ).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        option: 'group',
      });
    }
    await expect(transport.publish([message('task{created}', '1')])).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: 'app:' });
    expect(() => redisTransport({ redis: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
  });

  it('rejects a batch with an oversized payload before writing any of it', async () => {
    const keyPrefix = prefix();
    const transport = open(keyPrefix, { maxPayloadBytes: 100 });
    const small = message(TOPIC, 'small');
    const big = { id: 'big', topic: TOPIC, body: { text: 'x'.repeat(200) } };
    const error = await transport.publish([small, big]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'TRANSPORT_FAILED', messageId: 'big', maxBytes: 100 });
    expect(await keysUnder(keyPrefix)).toEqual([]);
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
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
    client.on('error', () => {});
    const transport = redisTransport({ redis: client, prefix: prefix(), connectTimeoutMs: 300 });
    try {
      const startedAt = Date.now();
      const error = await transport.publish([message(TOPIC, '1')]).catch((caught: unknown) => caught);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(error).toBeInstanceOf(RelaybusError);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      await expect(transport.subscribe({ topics: [TOPIC] }, () => {})).rejects.toBeInstanceOf(
        RedisUnavailableError,
      );
    } finally {
      await transport.close();
      client.disconnect();
    }
  });
});
