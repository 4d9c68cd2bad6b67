import type { Logger } from '@relaybus/core';
import type { Redis } from 'ioredis';
import { describeAddress, duplicateForReading, isCluster, type RedisClient } from '../connection';

/** What a read connection tells its owner. */
export interface ReadConnectionEvents {
  /** The connection (or one of a Cluster's node connections) dropped. */
  closed(): void;
  /** It is up again. */
  ready(): void;
}

/**
 * The duplicate connection one subscription reads on. It neither queues commands while disconnected nor resends them
 * after a reconnect (see {@link duplicateForReading}); ioredis then never settles a command the connection dropped,
 * so {@link ReadConnection.call} gives up on it when the connection closes. It also learns the client id of every
 * connection a blocking read may sit on, so that a block can be interrupted (`CLIENT UNBLOCK`, sent on the user's
 * client).
 */
export class ReadConnection {
  readonly client: RedisClient;
  readonly #redis: RedisClient;
  /** Client id of each connection a read may block on, by node address (`''` on standalone Redis). */
  readonly #clientIds = new Map<string, string>();
  /** Rejects the commands waiting on the connection, when it drops. */
  readonly #abandons = new Set<(error: Error) => void>();

  constructor(redis: RedisClient, events: ReadConnectionEvents, logger: Logger | undefined) {
    this.#redis = redis;
    this.client = duplicateForReading(redis);
    this.client.on('error', (error: unknown) => {
      logger?.debug('redis transport read connection error', { error });
    });
    const track = (node: Redis, address: string): void => {
      const fetchId = (): void => {
        node.client('ID').then(
          (id) => this.#clientIds.set(address, String(id)),
          () => undefined,
        );
      };
      node.on('ready', () => {
        fetchId();
        events.ready();
      });
      node.on('close', () => {
        const lost = new Error(`the read connection to ${address || describeAddress(redis)} closed`);
        for (const abandon of this.#abandons) abandon(lost);
        events.closed();
      });
      if (node.status === 'ready') fetchId();
    };
    if (isCluster(this.client)) {
      this.client.on('+node', (node: Redis) => track(node, nodeAddress(node)));
    } else {
      track(this.client, '');
    }
  }

  /** Whether commands can be sent now (they are refused, not queued, otherwise). */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Sends a command; rejects when the connection drops before the reply. */
  async call(command: string, args: ReadonlyArray<string | number>): Promise<unknown> {
    let abandon: ((error: Error) => void) | undefined;
    try {
      return await new Promise<unknown>((resolve, reject) => {
        abandon = reject;
        this.#abandons.add(reject);
        this.client.call(command, ...args).then(resolve, reject);
      });
    } finally {
      if (abandon !== undefined) this.#abandons.delete(abandon);
    }
  }

  /** Ends a blocking read in progress at once (it returns nothing). */
  interrupt(): void {
    const redis = this.#redis;
    if (!isCluster(redis)) {
      const id = this.#clientIds.get('');
      if (id !== undefined) redis.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
      return;
    }
    for (const node of redis.nodes('master')) {
      const id = this.#clientIds.get(nodeAddress(node));
      if (id !== undefined) node.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
    }
  }

  disconnect(): void {
    this.client.disconnect();
  }
}

function nodeAddress(node: Redis): string {
  return `${node.options.host ?? ''}:${node.options.port ?? ''}`;
}
