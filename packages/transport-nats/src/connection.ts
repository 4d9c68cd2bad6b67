import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsError } from './errors';
import type { ResolvedOptions } from './options';

/** A live connection with its JetStream handles. */
export interface Session {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** `host:port` of a server URL, for error messages. */
function addressOf(server: string): string {
  return server.replace(/^[a-z]+:\/\//i, '').replace(/^[^@]*@/, '');
}

/**
 * The transport's connection: opened on first use from `servers` (owned: reconnects forever, closed by `close()`), or
 * the user's connection (borrowed: left open). A failed first connect is not cached, so the next call tries again.
 */
export class Connector {
  readonly owned: boolean;
  readonly #options: ResolvedOptions;
  #session: Promise<Session> | undefined;
  #connection: NatsConnection | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.owned = options.connection === undefined;
  }

  /** Where the transport connects, such as `127.0.0.1:4222`, for error messages. */
  get address(): string {
    const server = this.#connection?.getServer();
    if (server !== undefined && server !== '') return addressOf(server);
    return (this.#options.servers ?? ['the NATS connection']).map(addressOf).join(',');
  }

  /** The session, connecting first if need be. */
  session(doing: string): Promise<Session> {
    if (this.#session === undefined) {
      const opening = this.#open();
      this.#session = opening;
      opening.catch(() => {
        if (this.#session === opening) this.#session = undefined;
      });
    }
    return this.#session.catch((error: unknown) => {
      throw natsError(this.address, doing, error);
    });
  }

  /** The server's `max_payload` (headers and body), once connected. */
  maxPayload(session: Session): number {
    return session.nc.info?.max_payload ?? 1_048_576;
  }

  async #open(): Promise<Session> {
    const { connection, servers, connectOptions, timeoutMs } = this.#options;
    const nc =
      connection ??
      (await connect({
        ...connectOptions,
        servers: [...(servers ?? [])],
        timeout: connectOptions?.timeout ?? timeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: connectOptions?.reconnectTimeWait ?? 500,
        waitOnFirstConnect: false,
        // A stack trace captured for every request (each publish) costs more than the publish itself.
        noAsyncTraces: connectOptions?.noAsyncTraces ?? true,
      }));
    this.#connection = nc;
    if (nc.isClosed()) throw natsError(this.address, 'connecting', new Error('the connection is closed'));
    try {
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      return { nc, js: jetstream(nc, { timeout: timeoutMs }), jsm };
    } catch (error) {
      if (this.owned) await nc.close().catch(() => undefined);
      throw error;
    }
  }

  /** Sends what is buffered and waits for the server to have read it. */
  async flush(): Promise<void> {
    const nc = this.#connection;
    if (nc === undefined || nc.isClosed()) return;
    await nc.flush();
  }

  /** Flushes, then closes an owned connection; a borrowed one stays open. */
  async close(): Promise<void> {
    const opening = this.#session;
    this.#session = undefined;
    if (opening === undefined) return;
    const session = await opening.catch(() => undefined);
    if (session === undefined) return;
    const { nc } = session;
    if (nc.isClosed()) return;
    if (!this.owned) {
      await nc.flush().catch(() => undefined);
      return;
    }
    await nc.drain().catch(() => nc.close());
  }
}
