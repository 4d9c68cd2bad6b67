import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';

/** A TCP proxy to a Postgres server whose connections can be cut without the clients noticing. */
export interface CutProxy {
  readonly port: number;
  /**
   * Drops every connection open now on the server side only, like a network blip: the client keeps a socket that
   * looks alive, and its next request finds the connection gone. New connections work at once.
   */
  cut(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`.
 *
 * @example
 * ```ts
 * const proxy = await startCutProxy(5432);
 * const pool = new pg.Pool({ ...testConnection(), port: proxy.port });
 * ```
 */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const stale = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end);
    upstream.on('close', () => {
      if (pairs.has(pair)) end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    cut() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.upstream.destroy();
        // The client learns of it only when it next sends something.
        pair.client.removeAllListeners('close');
        stale.add(pair.client);
        pair.client.once('data', () => pair.client.destroy());
        pair.client.resume();
      }
    },
    async close() {
      for (const client of stale) client.destroy();
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
