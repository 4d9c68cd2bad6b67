import {
  InvalidOptionError,
  PayloadTooLargeError,
  RelaybusError,
  TransportError,
  TransportUnavailableError,
} from '@relaybus/core';
import { freePort } from '@relaybus/test-support';
import { amqpTransport } from '@relaybus/transport-amqp';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AMQP_URL, TEST_GROUP_EXPIRES_MS, uniqueExchange, useCleanup } from './support/broker';

const { track } = useCleanup();

async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('an unreachable broker', () => {
  it('rejects publish, subscribe and declareGroup with TransportUnavailableError naming host:port', async () => {
    const port = await freePort();
    const transport = amqpTransport({ url: `amqp://guest:guest@127.0.0.1:${port}`, connectTimeoutMs: 300 });
    const started = Date.now();
    for (const run of [
      () => transport.publish([{ id: '1', topic: 't', body: {} }]),
      () => transport.subscribe({ topics: ['t'], group: 'g' }, () => undefined),
      () => transport.declareGroup({ group: 'g', topics: ['t'] }),
    ]) {
      const error = await rejection(run);
      expect(error).toBeInstanceOf(TransportUnavailableError);
      expect((error as TransportUnavailableError).code).toBe('TRANSPORT_UNAVAILABLE');
      expect((error as TransportUnavailableError).address).toBe(`127.0.0.1:${port}`);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    }
    expect(Date.now() - started, 'each gives up after connectTimeoutMs').toBeLessThan(5_000);
    await transport.close();
  });
});

describe('refused credentials', () => {
  it('reject at once with a TransportError that says the broker refused them', async () => {
    const url = AMQP_URL.replace(/\/\/[^@]*@/, '//guest:wrong-password@');
    const transport = amqpTransport({ url, connectTimeoutMs: 10_000 });
    const started = Date.now();
    const error = await rejection(() => transport.publish([{ id: '1', topic: 't', body: {} }]));
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('TRANSPORT_UNAVAILABLE');
    expect((error as Error).message).toMatch(/refused the credentials/);
    expect((error as Error).message).not.toContain('wrong-password');
    expect(Date.now() - started, 'no retrying until connectTimeoutMs').toBeLessThan(5_000);
    await transport.close();
  });
});

describe('an oversize message', () => {
  it('is refused with PayloadTooLargeError before anything of the batch is sent', async () => {
    const exchange = track(uniqueExchange('errors'));
    const transport = amqpTransport({ url: AMQP_URL, exchange, maxPayloadBytes: 1_024 });
    const received: string[] = [];
    const sub = await transport.subscribe({ topics: ['t'] }, async (delivery) => {
      received.push(delivery.message.id);
      await delivery.ack();
    });
    const error = await rejection(() =>
      transport.publish([
        { id: 'small', topic: 't', body: { ok: true } },
        { id: 'big', topic: 't', body: { blob: 'x'.repeat(2_000) } },
      ]),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', messageId: 'big', maxBytes: 1_024 });
    await transport.publish([{ id: 'after', topic: 't', body: {} }]);
    await expect.poll(() => received).toEqual(['after']);
    await sub.close();
    await transport.close();
  });
});

describe('invalid options', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['url', {}],
    ['url', { url: 'http://localhost' }],
    ['url', { url: AMQP_URL, connection: {} }],
    ['connection', { connection: { not: 'a connection' } }],
    ['exchange', { url: AMQP_URL, exchange: 'has space' }],
    ['exchange', { url: AMQP_URL, exchange: 'amq.topic' }],
    ['orderedByKey', { url: AMQP_URL, orderedByKey: 'yes' }],
    ['deliveryLimit', { url: AMQP_URL, deliveryLimit: 0 }],
    ['groupExpiresMs', { url: AMQP_URL, groupExpiresMs: 5 }],
    ['prefetch', { url: AMQP_URL, prefetch: 1.5 }],
    ['maxPayloadBytes', { url: AMQP_URL, maxPayloadBytes: -1 }],
    ['connectTimeoutMs', { url: AMQP_URL, connectTimeoutMs: Number.NaN }],
    ['onError', { url: AMQP_URL, onError: 'log' }],
  ];
  it.each(cases)('names %s', (option, options) => {
    let thrown: unknown;
    try {
      amqpTransport(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).option).toBe(option);
    expect((thrown as Error).message).toContain('amqpTransport()');
  });

  it('subscribe and close reject bad arguments with InvalidOptionError', async () => {
    const transport = amqpTransport({ url: AMQP_URL, exchange: track(uniqueExchange('errors')) });
    await expect(
      transport.subscribe({ topics: ['t'], concurrency: 0 }, () => undefined),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'concurrency',
    });
    await expect(transport.close({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await transport.close();
  });
});

describe('a group queue that exists with other arguments', () => {
  it('is refused with a TransportError naming the options every process must share', async () => {
    const exchange = track(uniqueExchange('errors'));
    const first = amqpTransport({ url: AMQP_URL, exchange, groupExpiresMs: TEST_GROUP_EXPIRES_MS });
    await first.declareGroup({ group: 'g', topics: ['t'] });
    const second = amqpTransport({
      url: AMQP_URL,
      exchange,
      groupExpiresMs: TEST_GROUP_EXPIRES_MS,
      deliveryLimit: 3,
    });
    const error = await rejection(() => second.declareGroup({ group: 'g', topics: ['t'] }));
    expect(RelaybusError.is(error, 'TRANSPORT_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/inequivalent arg 'x-delivery-limit'.*deliveryLimit/s);
    await Promise.all([first.close(), second.close()]);
  });
});

describe('a connection passed in', () => {
  it('is used and left open by close()', async () => {
    const connection = await connect(AMQP_URL);
    try {
      const transport = amqpTransport({ connection, exchange: track(uniqueExchange('errors')) });
      const received: string[] = [];
      await transport.subscribe({ topics: ['t'] }, async (delivery) => {
        received.push(delivery.message.id);
        await delivery.ack();
      });
      await transport.publish([{ id: 'm', topic: 't', body: {} }]);
      await expect.poll(() => received).toEqual(['m']);
      await transport.close();
      const channel = await connection.createChannel();
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
