import { randomUUID } from 'node:crypto';
import { InvalidOptionError, type Logger, memoryTransport, type Transport } from '@relaybus/core';

/** The transports the task manager runs on, chosen with `RELAYBUS_TRANSPORT`. */
export const TRANSPORT_KINDS = ['memory', 'redis', 'amqp', 'nats'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** Where the app's transport connects, read from the environment. */
export interface TransportConfig {
  readonly kind: TransportKind;
  /** Broker URL (`REDIS_URL`, `AMQP_URL` or `NATS_URL`); absent for memory. */
  readonly url?: string;
  /** Names the app's keys, exchange or stream (`RELAYBUS_PREFIX`), so deployments on one broker stay apart. */
  readonly prefix: string;
}

const URL_VARIABLES = { redis: 'REDIS_URL', amqp: 'AMQP_URL', nats: 'NATS_URL' } as const;
const URL_SCHEMES = {
  redis: ['redis:', 'rediss:'],
  amqp: ['amqp:', 'amqps:'],
  nats: ['nats:', 'tls:'],
} as const;
const DEFAULT_URLS = {
  redis: 'redis://127.0.0.1:6379',
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
} as const;

/**
 * Reads `RELAYBUS_TRANSPORT` (memory, redis, amqp or nats; memory by default), the broker URL of that transport
 * (`REDIS_URL`, `AMQP_URL` or `NATS_URL`, defaulting to the local broker) and `RELAYBUS_PREFIX`.
 *
 * @throws `InvalidOptionError` naming the variable that is wrong and what it should be.
 */
export function transportConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TransportConfig {
  const where = 'environment';
  const kind = (env['RELAYBUS_TRANSPORT'] ?? 'memory').trim() as TransportKind;
  if (!TRANSPORT_KINDS.includes(kind)) {
    throw new InvalidOptionError(
      where,
      'RELAYBUS_TRANSPORT',
      `must be one of ${TRANSPORT_KINDS.join(', ')}, got ${JSON.stringify(env['RELAYBUS_TRANSPORT'])}`,
    );
  }
  const prefix = env['RELAYBUS_PREFIX'] ?? 'task-manager';
  if (!/^[a-z][a-z0-9_-]{0,39}$/.test(prefix)) {
    throw new InvalidOptionError(
      where,
      'RELAYBUS_PREFIX',
      `must be 1 to 40 lowercase letters, digits, '_' or '-', starting with a letter, got ${JSON.stringify(prefix)}`,
    );
  }
  if (kind === 'memory') return { kind, prefix };
  const variable = URL_VARIABLES[kind];
  const url = env[variable] ?? DEFAULT_URLS[kind];
  let scheme: string;
  try {
    scheme = new URL(url.split(',')[0] ?? '').protocol;
  } catch {
    throw new InvalidOptionError(
      where,
      variable,
      `must be a URL such as ${DEFAULT_URLS[kind]}, got ${JSON.stringify(url)}`,
    );
  }
  if (!(URL_SCHEMES[kind] as ReadonlyArray<string>).includes(scheme)) {
    throw new InvalidOptionError(
      where,
      variable,
      `must start with ${URL_SCHEMES[kind].join(' or ')}//, got ${JSON.stringify(url)}`,
    );
  }
  return { kind, url, prefix };
}

/**
 * Makes the transport a config names. The broker packages are loaded only for the transport chosen, so the embedded
 * app needs none of them at run time.
 */
export async function createTransport(config: TransportConfig, logger: Logger): Promise<Transport> {
  switch (config.kind) {
    case 'memory':
      return memoryTransport();
    case 'redis': {
      const [{ Redis }, { redisTransport }] = await Promise.all([
        import('ioredis'),
        import('@relaybus/transport-redis'),
      ]);
      const redis = new Redis(config.url as string);
      const transport = redisTransport({ redis, prefix: config.prefix, logger });
      return withClose(transport, async () => {
        redis.disconnect();
      });
    }
    case 'amqp': {
      const { amqpTransport } = await import('@relaybus/transport-amqp');
      return amqpTransport({ url: config.url as string, exchange: config.prefix, logger });
    }
    case 'nats': {
      const { natsTransport } = await import('@relaybus/transport-nats');
      return natsTransport({ servers: (config.url as string).split(','), prefix: config.prefix, logger });
    }
  }
}

/** A transport that also releases a client it does not own when it closes. */
function withClose(transport: Transport, release: () => Promise<void>): Transport {
  const close = transport.close.bind(transport);
  return Object.assign(transport, {
    async close(options?: { readonly timeoutMs?: number }) {
      try {
        await close(options);
      } finally {
        await release();
      }
    },
  });
}

/** A prefix no other run uses, for tests on a shared broker. */
export function uniquePrefix(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}
